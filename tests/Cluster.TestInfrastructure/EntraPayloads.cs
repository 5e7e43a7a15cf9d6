namespace Cluster.TestInfrastructure;

/// <summary>
/// Request bodies exactly as Microsoft Entra ID's provisioning service sends them (shared/docs/entra-scim.md §2.3–§2.6,
/// §4.3), with the variable parts (ids, names) as parameters. Raw JSON strings on purpose: the tests replay the wire
/// format, including Entra's quirks (capitalised ops, string Booleans, dotted keys), not a serializer's idea of it.
/// </summary>
public static class EntraPayloads
{
    public const string CoreUserSchema = "urn:ietf:params:scim:schemas:core:2.0:User";
    public const string EnterpriseUserSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    public const string PatchOpSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
    public const string ListResponseSchema = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
    public const string ErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error";

    /// <summary>
    /// §2.3 create: <c>meta</c>, empty <c>roles</c>, and the enterprise URN in <c>schemas</c> without any extension values.
    /// </summary>
    public static string CreateUser(string userName, string externalId, string workEmail, string givenName = "givenName", string familyName = "familyName") => $$"""
        {
          "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
          "externalId": "{{externalId}}",
          "userName": "{{userName}}",
          "active": true,
          "emails": [{"primary": true, "type": "work", "value": "{{workEmail}}"}],
          "meta": {"resourceType": "User"},
          "name": {"formatted": "{{givenName}} {{familyName}}", "familyName": "{{familyName}}", "givenName": "{{givenName}}"},
          "roles": []
        }
        """;

    /// <summary>§2.3 create with enterprise extension values (<c>employeeNumber</c>, <c>department</c>).</summary>
    public static string CreateUserWithEnterprise(string userName, string externalId, string workEmail, string employeeNumber, string department) => $$"""
        {
          "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
          "externalId": "{{externalId}}",
          "userName": "{{userName}}",
          "active": true,
          "emails": [{"primary": true, "type": "work", "value": "{{workEmail}}"}],
          "meta": {"resourceType": "User"},
          "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
          "roles": [],
          "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "{{employeeNumber}}",
            "department": "{{department}}"
          }
        }
        """;

    /// <summary>A minimal user (no email, no name): for tests that only need an id.</summary>
    public static string MinimalUser(string userName) => $$"""
        {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"{{userName}}","active":true}
        """;

    /// <summary>§2.5.1 default dialect, capitalised ops, one op per attribute.</summary>
    public static string PatchDefaultDialect(string workEmail, string familyName, string employeeNumber, string nickName) => $$"""
        {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
         "Operations":[
           {"op":"Replace","path":"emails[type eq \"work\"].value","value":"{{workEmail}}"},
           {"op":"Replace","path":"name.familyName","value":"{{familyName}}"},
           {"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"{{employeeNumber}}"},
           {"op":"Add","path":"nickName","value":"{{nickName}}"}]}
        """;

    /// <summary>§2.5.2 <c>aadOptscim062020</c> dialect: lowercase ops, one pathless replace with dotted and URN keys.</summary>
    public static string PatchFlagDialect(string workEmail, string displayName, string givenName, string familyName, string employeeNumber) => $$"""
        {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
          {"op":"replace","path":"emails[type eq \"work\"].value","value":"{{workEmail}}"},
          {"op":"replace","value":{
              "displayName":"{{displayName}}",
              "name.givenName":"{{givenName}}",
              "name.familyName":"{{familyName}}",
              "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"{{employeeNumber}}"} }]}
        """;

    /// <summary>§2.6 disable/enable. <paramref name="jsonValue"/> is the raw JSON of the value: <c>"\"False\""</c> or <c>"false"</c>.</summary>
    public static string SetActive(string op, string jsonValue) => $$"""
        {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
         "Operations":[{"op":"{{op}}","path":"active","value":{{jsonValue}}}]}
        """;

    /// <summary>§2.5.1 userName rename.</summary>
    public static string RenameUserName(string userName) => $$"""
        {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
         "Operations":[{"op":"Replace","path":"userName","value":"{{userName}}"}]}
        """;

    /// <summary>Manager as observed in real traffic: enterprise URN path, bare string id (§2.5.1, Q6).</summary>
    public static string AddManagerBareString(string managerId) => $$"""
        {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
         "Operations":[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"{{managerId}}"}]}
        """;

    /// <summary>Manager replace as the SCIM Validator sends it (<c>{"value": id}</c>).</summary>
    public static string ReplaceManagerObject(string managerId) => $$"""
        {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
         "Operations":[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"{{managerId}}"} }]}
        """;

    /// <summary>Manager removal as the SCIM Validator sends it: replace with an empty id.</summary>
    public const string ClearManagerWithEmptyValue = """
        {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
         "Operations":[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":""}}]}
        """;

    /// <summary>Manager removal with a plain Remove op.</summary>
    public const string RemoveManager = """
        {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
         "Operations":[{"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]}
        """;

    /// <summary>Legacy docs' manager add: bare <c>manager</c> path, array value with <c>$ref</c>.</summary>
    public static string AddManagerLegacyArray(string scimBaseUrl, string managerId) => $$"""
        {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
         "Operations":[{"op":"Add","path":"manager","value":[{"$ref":"{{scimBaseUrl}}/Users/{{managerId}}","value":"{{managerId}}"}]}]}
        """;

    /// <summary>A PatchOp body with the given operations (raw JSON objects).</summary>
    public static string Patch(params string[] operations) =>
        $$"""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{{string.Join(",", operations)}}]}""";
}
