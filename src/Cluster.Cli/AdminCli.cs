using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Cluster.Cli.Commands;

namespace Cluster.Cli;

/// <summary>
/// The command tree of <c>scim-admin</c> and what all its commands share: the global options (<c>--url</c>,
/// <c>--key</c>, <c>--json</c>) and <see cref="Command"/>, which makes a leaf command out of one small method (the key
/// check, the API client, the output mode and the error mapping are done here, once).
/// A new command is one method in its group's file under <c>Commands/</c>; a new group is one file and one line in
/// <see cref="CreateRoot"/>.
/// </summary>
internal sealed class AdminCli(HttpMessageHandler? handler)
{
    public const string Name = "scim-admin";
    public const string UrlVariable = "SCIM_ADMIN_URL";
    public const string KeyVariable = "SCIM_ADMIN_KEY";
    public const string DefaultUrl = "http://127.0.0.1:8080";

    private readonly Option<string> _url = new("--url")
    {
        Description = $"The gateway's base URL: ${UrlVariable} when set, else {DefaultUrl}.",
        HelpName = "URL",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(UrlVariable) is { Length: > 0 } url ? url : DefaultUrl,
        Validators = { ValidateUrl },
    };

    // No DefaultValueFactory: help would print the key from the environment as the default.
    private readonly Option<string> _key = new("--key")
    {
        Description = $"The operator key, Admin:ApiKey (default: ${KeyVariable}). Required.",
        HelpName = "KEY",
        Recursive = true,
    };

    private readonly Option<bool> _json = new("--json")
    {
        Description = "Print the API's JSON instead of tables (events tail: one event per line).",
        Recursive = true,
    };

    /// <summary>The whole tree. Built per run: it is cheap, and it carries the run's <see cref="HttpMessageHandler"/>.</summary>
    public RootCommand CreateRoot()
    {
        var root = new RootCommand("Manage the SCIM cluster's tenants, tokens, OAuth clients, event feeds and webhooks through a gateway's admin API.")
        {
            _url,
            _key,
            _json,
            TenantCommands.Create(this),
            TokenCommands.Create(this),
            OAuthClientCommands.Create(this),
            EventCommands.Create(this),
            WebhookCommands.Create(this),
            RequestCommands.Create(this),
        };
        root.HelpName = Name;
        return root;
    }

    /// <summary>
    /// A leaf command: <paramref name="run"/> gets a <see cref="CommandContext"/> (parsed values, API client, output) and
    /// the cancellation token (Ctrl-C). It succeeds unless it throws <see cref="CommandFailedException"/> (exit code 1,
    /// the message on stderr). A missing operator key is a usage error, reported by the parser like any other.
    /// </summary>
    public Command Command(string name, string description, Symbol[] symbols, Func<CommandContext, CancellationToken, Task> run)
    {
        var command = new Command(name, description);
        foreach (var symbol in symbols)
        {
            switch (symbol)
            {
                case Argument argument: command.Arguments.Add(argument); break;
                case Option option: command.Options.Add(option); break;
                default: throw new ArgumentException($"Unsupported symbol {symbol.Name}.", nameof(symbols));
            }
        }

        command.Validators.Add(result =>
        {
            if (Key(result.GetValue(_key)) is null)
            {
                result.AddError($"No operator key: pass --key or set {KeyVariable}.");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = new Output(parse.InvocationConfiguration.Output, parse.GetValue(_json));
            using var api = new AdminApi(parse.GetRequiredValue(_url), Key(parse.GetValue(_key))!, handler);
            try
            {
                await run(new CommandContext(parse, api, output), cancellationToken);
                return ExitCodes.Ok;
            }
            catch (CommandFailedException e)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync(e.Message);
                return ExitCodes.Failed;
            }
        });
        return command;
    }

    /// <summary>The tenant id argument most commands take.</summary>
    public static Argument<string> TenantArgument() => new("tenant-id") { Description = "The tenant's id (tenantId, as 'tenants create' printed it)." };

    /// <summary>A cursor option (<c>--after</c>): a feed position, as <c>nextCursor</c> gave it ("0": before the oldest retained event).</summary>
    public static Option<string> CursorOption(string description, bool required = false) => new("--after")
    {
        Description = description,
        HelpName = "CURSOR",
        Required = required,
        Validators =
        {
            result =>
            {
                if (!long.TryParse(result.GetValueOrDefault<string>(), NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    result.AddError("--after must be a cursor: a whole number, as 'nextCursor' gave it.");
                }
            },
        },
    };

    /// <summary>
    /// A number option with a default and a range, e.g. <c>--limit N</c>. The range is checked by its parser
    /// (System.CommandLine runs validators before conversion): a value that does not parse or is not
    /// <paramref name="allowed"/> is the parse error <c>{name} must be {rule}, not '…'.</c>
    /// </summary>
    public static Option<T> NumberOption<T>(string name, string helpName, string description, T defaultValue, string rule, Func<T, bool> allowed)
        where T : IParsable<T> => new(name)
    {
        Description = description,
        HelpName = helpName,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (T.TryParse(text, CultureInfo.InvariantCulture, out var value) && allowed(value))
            {
                return value;
            }

            result.AddError($"{name} must be {rule}, not '{text}'.");
            return defaultValue;
        },
    };

    private static string? Key(string? option) =>
        option is { Length: > 0 } ? option : Environment.GetEnvironmentVariable(KeyVariable) is { Length: > 0 } key ? key : null;

    private static void ValidateUrl(OptionResult result)
    {
        var value = result.GetValueOrDefault<string>();
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            result.AddError($"--url must be an absolute http or https URL, not '{value}'.");
        }
    }
}

/// <summary>What a leaf command's method works with.</summary>
internal sealed class CommandContext(ParseResult parse, AdminApi api, Output output)
{
    /// <summary>The admin API.</summary>
    public AdminApi Api { get; } = api;

    /// <summary>stdout, as table or JSON.</summary>
    public Output Out { get; } = output;

    /// <summary>stderr: progress and hints that must not mix with the output.</summary>
    public TextWriter Error => parse.InvocationConfiguration.Error;

    public T Get<T>(Argument<T> argument) => parse.GetRequiredValue(argument);

    public T? Get<T>(Option<T> option) => parse.GetValue(option);
}

/// <summary>The exit codes: 0 done, 1 the API or the network failed, 2 the command line is wrong.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;
}
