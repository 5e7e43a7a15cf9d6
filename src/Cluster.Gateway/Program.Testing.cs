// Makes Program visible to WebApplicationFactory<Program> in the HTTP tests.
public partial class Program;
