// A local Docker Engine for the calls dc-agent's Docker provisioner makes, listening on a Unix socket (as dockerd does
// on /var/run/docker.sock) or on TCP with TLS and a client certificate (as dockerd --tlsverify does).
//
// - Every request is checked against the Engine API's published spec, Contract/v1.47.yaml (moby's own file; SOURCE.md
//   beside it), by DockerContract: the path carries the /v1.47 prefix, the path and method are an operation of the
//   spec, the query has only parameters the operation declares with values of their types, and a JSON body meets the
//   operation's body schema. A request that fails is answered 400 {"message": reason} and kept in Violations, which
//   the tests assert to be empty. The stand-in's own JSON answers are checked against the spec's response schemas
//   too, so an answer the real daemon could not give is a violation as well.
// - What the daemon answers, from the spec and its NOTES (daemon/errors.go texts): 201 {Id, Warnings} on create,
//   404 "No such image" when the image is not local (create never pulls), 409 "Conflict. The container name ..." for
//   a name in use, 204 on start/stop/remove, 304 with an empty body when already started or stopped, 404 "No such
//   container", 409 for removing a running container without force; a pull answers 200 and streams JSON lines, and
//   a failed pull still answers 200 with a final {"errorDetail":{"message"}, "error"} line.
// - State: local images, the registry's images, containers (created, running, exited), host ports taken; a port range
//   in HostPort ("30000-30010") takes the first free port of it at start, an empty one an ephemeral port.
// - Failures to inject: any operation answering a status with a message (5xx, 409...), a slow answer, a pull whose
//   stream ends in an error line (a registry's rate limit), list calls that miss a container (a race with another run).
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace DecentCloud.Tests.Agent.Docker;

/// <summary>One request as the stand-in received it.</summary>
public sealed record DockerRequest(string Method, string Path, string Query, string? Operation, string Body, int Status, string? Violation)
{
    public JsonNode? Json => Body.Length == 0 ? null : JsonNode.Parse(Body);
}

public sealed record DockerViolation(string Method, string Path, string Problem);

/// <summary>A container as the stand-in keeps it.</summary>
public sealed class StandInContainer
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string Image { get; init; }
    public required IReadOnlyList<string> Env { get; init; }
    public required IReadOnlyDictionary<string, string> Labels { get; init; }
    public required JsonObject CreateBody { get; init; }
    public required DateTimeOffset Created { get; init; }
    public string Status { get; set; } = "created";
    public int ExitCode { get; set; }
    public int? HostPort { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>The HEALTHCHECK's status (starting, healthy, unhealthy) when the image has one; null when it has none.</summary>
    public string? Health { get; set; }

    public string? HealthOutput { get; set; }

    public bool Running => Status == "running";

    public string? EnvValue(string name) =>
        Env.FirstOrDefault(variable => variable.StartsWith(name + "=", StringComparison.Ordinal)) is { } found ? found[(name.Length + 1)..] : null;

    /// <summary>The container port published, such as <c>22/tcp</c>.</summary>
    public string? PublishedPort => CreateBody["HostConfig"]?["PortBindings"]?.AsObject().Select(pair => pair.Key).FirstOrDefault();
}

public sealed class DockerStandIn : IAsyncDisposable
{
    public const string EngineVersion = "27.3.1";

    private static readonly Lazy<DockerContract> SharedContract = new(DockerContract.Load);

    private readonly Lock gate = new();
    private readonly List<DockerRequest> requests = [];
    private readonly List<DockerViolation> violations = [];
    private readonly List<Rule> rules = [];
    private readonly Dictionary<string, StandInContainer> containers = new(StringComparer.Ordinal);
    private readonly HashSet<string> localImages = new(StringComparer.Ordinal);
    private readonly HashSet<string> registry = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> healthchecks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> pullErrors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<Call, Task<Reply>>> handlers;
    private readonly WebApplication app;
    private int nextEphemeralPort = 32768;
    private int listMisses;

    private DockerStandIn(string? socketPath, X509Certificate2? serverCertificate, X509Certificate2? clientAuthority)
    {
        SocketPath = socketPath;
        handlers = new Dictionary<string, Func<Call, Task<Reply>>>(StringComparer.Ordinal)
        {
            ["GET /version"] = _ => Task.FromResult(Version()),
            ["GET /info"] = _ => Task.FromResult(Info()),
            ["GET /containers/json"] = call => Task.FromResult(List(call)),
            ["POST /containers/create"] = call => Task.FromResult(Create(call)),
            ["GET /containers/{id}/json"] = call => Task.FromResult(WithContainer(call, Inspect)),
            ["POST /containers/{id}/start"] = call => Task.FromResult(WithContainer(call, Start)),
            ["POST /containers/{id}/stop"] = call => Task.FromResult(WithContainer(call, Stop)),
            ["DELETE /containers/{id}"] = call => Task.FromResult(WithContainer(call, container => Remove(call, container))),
            ["POST /images/create"] = call => Task.FromResult(Pull(call)),
            ["GET /images/{name}/json"] = call => Task.FromResult(InspectImage(call)),
            ["GET /distribution/{name}/json"] = call => Task.FromResult(Distribution(call)),
        };

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            if (socketPath is not null)
            {
                kestrel.ListenUnixSocket(socketPath);
            }
            else
            {
                kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(https =>
                {
                    https.ServerCertificate = serverCertificate;
                    https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                    https.ClientCertificateValidation = (certificate, _, _) => IsSignedBy(certificate, clientAuthority!);
                }));
            }
        });
        app = builder.Build();
        app.Run(HandleAsync);
    }

    /// <summary>The socket it listens on (a Unix socket stand-in), or null for a TLS one.</summary>
    public string? SocketPath { get; }

    /// <summary>What dc-agent's <c>[docker] endpoint</c> is set to.</summary>
    public string Endpoint { get; private set; } = "";

    public DockerContract Contract => SharedContract.Value;

    /// <summary>The newest API version the daemon serves (<c>GET /version</c>); lower it to play an old engine.</summary>
    public string ApiVersion { get; set; } = "1.47";

    public string MinApiVersion { get; set; } = "1.24";

    public IReadOnlyList<DockerRequest> Requests => Snapshot(() => requests.ToList());

    public IReadOnlyList<DockerViolation> Violations => Snapshot(() => violations.ToList());

    public IReadOnlyList<StandInContainer> Containers => Snapshot(() => containers.Values.ToList());

    public IReadOnlyList<string> LocalImages => Snapshot(() => localImages.ToList());

    /// <summary>A stand-in on a new Unix socket in the temp folder.</summary>
    public static async Task<DockerStandIn> StartAsync()
    {
        // A socket path must fit sun_path (108 bytes): a short name in the temp folder.
        var path = Path.Combine(Path.GetTempPath(), $"dcd-{Guid.NewGuid().ToString("N")[..12]}.sock");
        var standIn = new DockerStandIn(path, null, null);
        await standIn.app.StartAsync();
        standIn.Endpoint = $"unix://{path}";
        return standIn;
    }

    /// <summary>A stand-in on 127.0.0.1 with TLS, requiring a client certificate signed by <paramref name="clientAuthority"/>.</summary>
    public static async Task<DockerStandIn> StartTlsAsync(X509Certificate2 serverCertificate, X509Certificate2 clientAuthority)
    {
        var standIn = new DockerStandIn(null, serverCertificate, clientAuthority);
        await standIn.app.StartAsync();
        var address = new Uri(standIn.app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());
        standIn.Endpoint = $"tcp://localhost:{address.Port}";
        return standIn;
    }

    /// <summary>An image the registry has (pullable); <paramref name="local"/> also puts it on the host already.</summary>
    public void AddImage(string image, bool local = false, string? healthcheck = null)
    {
        lock (gate)
        {
            registry.Add(Normalize(image));
            if (local)
            {
                localImages.Add(Normalize(image));
            }
            if (healthcheck is not null)
            {
                healthchecks[Normalize(image)] = healthcheck;
            }
        }
    }

    /// <summary>The next pull of <paramref name="image"/> streams some progress, then an error line with <paramref name="message"/>.</summary>
    public void FailPull(string image, string message)
    {
        lock (gate)
        {
            pullErrors[Normalize(image)] = message;
        }
    }

    /// <summary>The next <paramref name="times"/> calls of <paramref name="operation"/> (<c>POST /containers/{id}/start</c>) answer <paramref name="status"/> with Docker's <paramref name="message"/>.</summary>
    public void Fail(string operation, int status, string message, int times = 1)
    {
        lock (gate)
        {
            rules.Add(new Rule(operation, times, status, message, TimeSpan.Zero));
        }
    }

    /// <summary>The next <paramref name="times"/> calls of <paramref name="operation"/> answer only after <paramref name="delay"/>.</summary>
    public void Delay(string operation, TimeSpan delay, int times = 1)
    {
        lock (gate)
        {
            rules.Add(new Rule(operation, times, null, null, delay));
        }
    }

    /// <summary>The next <paramref name="times"/> container lists answer empty, as if another run made its container just after.</summary>
    public void MissInLists(int times = 1)
    {
        lock (gate)
        {
            listMisses += times;
        }
    }

    /// <summary>A container as an earlier run left it (made, maybe started, never reported), or a foreign one.</summary>
    public StandInContainer AddContainer(string name, string image, IReadOnlyDictionary<string, string> labels, IReadOnlyList<string> env, string containerPort = "22/tcp", bool running = true)
    {
        lock (gate)
        {
            var body = new JsonObject
            {
                ["Image"] = image,
                ["HostConfig"] = new JsonObject { ["PortBindings"] = new JsonObject { [containerPort] = new JsonArray(new JsonObject { ["HostIp"] = "", ["HostPort"] = "" }) } },
            };
            var container = new StandInContainer { Id = NewId(), Name = name, Image = Normalize(image), Env = env, Labels = labels, CreateBody = body, Created = DateTimeOffset.UtcNow };
            containers[container.Id] = container;
            if (running)
            {
                StartLocked(container);
            }
            return container;
        }
    }

    public StandInContainer Container(string id) => Snapshot(() => containers[id]);

    /// <summary>The container exits, as a crashed process would.</summary>
    public void Exit(string id, int exitCode)
    {
        lock (gate)
        {
            var container = containers[id];
            container.Status = "exited";
            container.ExitCode = exitCode;
            container.FinishedAt = DateTimeOffset.UtcNow;
            container.HostPort = null;
        }
    }

    public void SetHealth(string id, string status, string? output = null)
    {
        lock (gate)
        {
            containers[id].Health = status;
            containers[id].HealthOutput = output;
        }
    }

    public IReadOnlyList<DockerRequest> CallsTo(string operation) => Requests.Where(r => r.Operation == operation).ToList();

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        if (SocketPath is not null)
        {
            File.Delete(SocketPath);
        }
    }

    /// <summary>Docker's own form of an image reference without tag or digest: <c>:latest</c> added.</summary>
    public static string Normalize(string image) =>
        image.Contains('@', StringComparison.Ordinal) || image.LastIndexOf(':') > image.LastIndexOf('/') ? image : image + ":latest";

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var path = request.Path.Value ?? "";
        var problems = new List<string>();
        DockerOperation? operation = null;
        Reply reply;

        var prefix = Contract.BasePath;
        if (!path.StartsWith(prefix + "/", StringComparison.Ordinal))
        {
            problems.Add($"the path does not start with the pinned version {prefix}/ (a call without one gets the daemon's newest API)");
            reply = Error(400, $"client version not given or not {prefix[2..]}");
        }
        else
        {
            var unversioned = path[prefix.Length..];
            operation = Contract.Find(request.Method, unversioned);
            if (operation is null)
            {
                problems.Add($"{request.Method} {unversioned} is not an operation of the Engine API v1.47");
                reply = Error(404, "page not found");
            }
            else
            {
                problems.AddRange(Contract.CheckQuery(operation, request.Query.Select(q => KeyValuePair.Create(q.Key, q.Value.ToString()))));
                problems.AddRange(CheckBody(operation, request.ContentType, body));
                if (problems.Count > 0)
                {
                    reply = Error(400, string.Join("; ", problems));
                }
                else
                {
                    var rule = Take(operation.Key);
                    if (rule is { Delay: var delay } && delay > TimeSpan.Zero)
                    {
                        await Task.Delay(delay, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                    }
                    reply = rule is { Status: { } status }
                        ? Error(status, rule.Message!)
                        : await handlers[operation.Key](new Call(operation, request.Query, body));
                }
            }
        }

        if (operation is not null && reply.Body is { } answer && Contract.ResponseSchema(operation, reply.Status) is { } schema)
        {
            problems.AddRange(Contract.Check(JsonSerializer.SerializeToElement(answer), schema, "answer").Select(p => $"the stand-in's own answer breaks the spec: {p}"));
        }

        Record(new DockerRequest(request.Method, path, request.QueryString.Value ?? "", operation?.Key, body, reply.Status, problems.Count > 0 ? string.Join("; ", problems) : null));
        if (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        context.Response.StatusCode = reply.Status;
        if (reply.Stream is { } stream)
        {
            context.Response.ContentType = "application/json";
            await stream(context.Response);
        }
        else if (reply.Body is not null)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(reply.Body.ToJsonString() + "\n");
        }
    }

    private IEnumerable<string> CheckBody(DockerOperation operation, string? contentType, string body)
    {
        if (Contract.BodySchema(operation) is not { } schema || body.Length == 0)
        {
            yield break;
        }
        if (operation.Key == "POST /images/create")
        {
            // The body is the image to import (fromSrc=-); a pull sends none.
            yield return "a pull sends no body";
            yield break;
        }
        if (contentType is null || !contentType.StartsWith("application/json", StringComparison.Ordinal))
        {
            yield return $"the body must be sent as application/json; got '{contentType}'";
        }
        if (TryParse(body) is not { } json)
        {
            yield return "the body is not JSON";
            yield break;
        }
        foreach (var problem in Contract.Check(json, schema, "body"))
        {
            yield return problem;
        }
    }

    private Reply Version() => Json(200, new JsonObject
    {
        ["Platform"] = new JsonObject { ["Name"] = "Docker Engine - Community" },
        ["Version"] = EngineVersion,
        [nameof(ApiVersion)] = ApiVersion,
        ["MinAPIVersion"] = MinApiVersion,
        ["Os"] = "linux",
        ["Arch"] = "amd64",
        ["KernelVersion"] = "6.8.0-45-generic",
    });

    private Reply Info() => Snapshot(() => Json(200, new JsonObject
    {
        [nameof(Containers)] = containers.Count,
        ["ContainersRunning"] = containers.Values.Count(c => c.Running),
        ["NCPU"] = 8,
        ["MemTotal"] = 16L * 1024 * 1024 * 1024,
        ["ServerVersion"] = EngineVersion,
    }));

    private Reply List(Call call)
    {
        var all = call.Query["all"].ToString() is "1" or "true" or "True";
        var labels = new List<string>();
        if (call.Query["filters"].ToString() is { Length: > 0 } filters)
        {
            try
            {
                var parsed = JsonNode.Parse(filters)!.AsObject();
                foreach (var (key, values) in parsed)
                {
                    if (key != "label")
                    {
                        return Error(400, $"the stand-in models the label filter only; got '{key}'");
                    }
                    labels.AddRange(values!.AsArray().Select(v => v!.GetValue<string>()));
                }
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException)
            {
                return Error(400, $"invalid filter: {ex.Message}");
            }
        }

        lock (gate)
        {
            if (listMisses > 0)
            {
                listMisses--;
                return Json(200, new JsonArray());
            }
            var found = containers.Values
                .Where(c => all || c.Running)
                .Where(c => labels.All(label => label.Split('=', 2) is var kv && c.Labels.TryGetValue(kv[0], out var value) && (kv.Length == 1 || value == kv[1])))
                .Select(c => (JsonNode)new JsonObject
                {
                    ["Id"] = c.Id,
                    ["Names"] = new JsonArray("/" + c.Name),
                    ["Image"] = c.Image,
                    ["ImageID"] = ImageId(c.Image),
                    ["Command"] = "/usr/sbin/sshd -D",
                    ["Created"] = c.Created.ToUnixTimeSeconds(),
                    ["State"] = c.Status,
                    ["Status"] = c.Running ? "Up 2 minutes" : $"Exited ({c.ExitCode}) 1 minute ago",
                    ["Labels"] = new JsonObject(c.Labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))),
                })
                .ToArray();
            return Json(200, new JsonArray(found));
        }
    }

    private Reply Create(Call call)
    {
        var body = JsonNode.Parse(call.Body)!.AsObject();
        var name = call.Query["name"].ToString().TrimStart('/');
        var image = body["Image"]?.GetValue<string>() ?? "";
        lock (gate)
        {
            if (name.Length > 0 && containers.Values.FirstOrDefault(c => c.Name == name) is { } taken)
            {
                return Error(409, $"Conflict. The container name \"/{name}\" is already in use by container \"{taken.Id}\". You have to remove (or rename) that container to be able to reuse that name.");
            }
            if (!localImages.Contains(Normalize(image)))
            {
                return Error(404, $"No such image: {image}");
            }
            var container = new StandInContainer
            {
                Id = NewId(),
                Name = name.Length > 0 ? name : $"stand-in-{containers.Count}",
                Image = Normalize(image),
                Env = body["Env"]?.AsArray().Select(e => e!.GetValue<string>()).ToList() ?? [],
                Labels = body["Labels"]?.AsObject().ToDictionary(l => l.Key, l => l.Value!.GetValue<string>()) ?? [],
                CreateBody = body,
                Created = DateTimeOffset.UtcNow,
            };
            containers[container.Id] = container;
            return Json(201, new JsonObject { ["Id"] = container.Id, ["Warnings"] = new JsonArray() });
        }
    }

    private Reply Inspect(StandInContainer c)
    {
        var ports = new JsonObject();
        if (c.PublishedPort is { } published)
        {
            ports[published] = c.HostPort is { } port
                ? new JsonArray(
                    new JsonObject { ["HostIp"] = "0.0.0.0", ["HostPort"] = port.ToString(CultureInfo.InvariantCulture) },
                    new JsonObject { ["HostIp"] = "::", ["HostPort"] = port.ToString(CultureInfo.InvariantCulture) })
                : null;
        }
        var state = new JsonObject
        {
            ["Status"] = c.Status,
            ["Running"] = c.Running,
            ["Paused"] = false,
            ["Restarting"] = false,
            ["OOMKilled"] = false,
            ["Dead"] = false,
            ["Pid"] = c.Running ? 4242 : 0,
            ["ExitCode"] = c.ExitCode,
            ["Error"] = "",
            ["StartedAt"] = (c.StartedAt ?? DateTimeOffset.MinValue).ToString("o", CultureInfo.InvariantCulture),
            ["FinishedAt"] = (c.FinishedAt ?? DateTimeOffset.MinValue).ToString("o", CultureInfo.InvariantCulture),
        };
        if (c.Health is { } health)
        {
            state["Health"] = new JsonObject
            {
                ["Status"] = health,
                ["FailingStreak"] = health == "unhealthy" ? 3 : 0,
                ["Log"] = new JsonArray(new JsonObject
                {
                    ["Start"] = DateTimeOffset.UtcNow.ToString("o", CultureInfo.InvariantCulture),
                    ["End"] = DateTimeOffset.UtcNow.ToString("o", CultureInfo.InvariantCulture),
                    ["ExitCode"] = health == "unhealthy" ? 1 : 0,
                    ["Output"] = c.HealthOutput ?? "",
                }),
            };
        }
        return Json(200, new JsonObject
        {
            ["Id"] = c.Id,
            ["Created"] = c.Created.ToString("o", CultureInfo.InvariantCulture),
            ["Path"] = "/usr/sbin/sshd",
            ["Args"] = new JsonArray("-D"),
            ["State"] = state,
            ["Image"] = ImageId(c.Image),
            ["Name"] = "/" + c.Name,
            ["RestartCount"] = 0,
            ["Config"] = new JsonObject
            {
                ["Image"] = c.Image,
                ["Env"] = new JsonArray([.. c.Env.Select(e => (JsonNode?)e)]),
                ["Labels"] = new JsonObject(c.Labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))),
            },
            ["HostConfig"] = c.CreateBody["HostConfig"]?.DeepClone(),
            ["NetworkSettings"] = new JsonObject { ["Ports"] = ports },
        });
    }

    private Reply Start(StandInContainer container)
    {
        lock (gate)
        {
            if (container.Running)
            {
                return new Reply(304, null);
            }
            return StartLocked(container) ?? new Reply(204, null);
        }
    }

    private Reply? StartLocked(StandInContainer container)
    {
        var binding = container.CreateBody["HostConfig"]?["PortBindings"]?.AsObject().Select(pair => pair.Value?[0]?["HostPort"]?.GetValue<string>()).FirstOrDefault();
        var taken = containers.Values.Where(c => c.HostPort is not null).Select(c => c.HostPort!.Value).ToHashSet();
        int? port = null;
        if (container.PublishedPort is not null)
        {
            if (string.IsNullOrEmpty(binding))
            {
                port = nextEphemeralPort++;
            }
            else if (binding.Split('-') is [var first, var last])
            {
                port = Enumerable.Range(int.Parse(first, CultureInfo.InvariantCulture), int.Parse(last, CultureInfo.InvariantCulture) - int.Parse(first, CultureInfo.InvariantCulture) + 1)
                    .Cast<int?>().FirstOrDefault(p => !taken.Contains(p!.Value));
                if (port is null)
                {
                    return Error(500, $"driver failed programming external connectivity on endpoint {container.Name}: all ports are allocated");
                }
            }
            else
            {
                port = int.Parse(binding, CultureInfo.InvariantCulture);
                if (taken.Contains(port.Value))
                {
                    return Error(500, $"driver failed programming external connectivity on endpoint {container.Name}: Bind for 0.0.0.0:{port} failed: port is already allocated");
                }
            }
        }
        container.HostPort = port;
        container.Status = "running";
        container.StartedAt = DateTimeOffset.UtcNow;
        container.Health = healthchecks.GetValueOrDefault(container.Image);
        return null;
    }

    private Reply Stop(StandInContainer container)
    {
        lock (gate)
        {
            if (!container.Running)
            {
                return new Reply(304, null);
            }
            container.Status = "exited";
            container.ExitCode = 0;
            container.HostPort = null;
            container.FinishedAt = DateTimeOffset.UtcNow;
            return new Reply(204, null);
        }
    }

    private Reply Remove(Call call, StandInContainer container)
    {
        lock (gate)
        {
            if (container.Running && call.Query["force"].ToString() is not ("1" or "true" or "True"))
            {
                return Error(409, $"cannot remove container \"/{container.Name}\": container is running: stop the container before removing or force remove");
            }
            containers.Remove(container.Id);
            return new Reply(204, null);
        }
    }

    private Reply Pull(Call call)
    {
        var from = call.Query["fromImage"].ToString();
        var tag = call.Query["tag"].ToString();
        if (from.Length == 0 || tag.Length == 0)
        {
            Violation("POST", "/images/create", "a pull names fromImage and a tag (an empty tag pulls every tag of the repository)");
            return Error(400, "fromImage and tag are required here");
        }
        var image = tag.StartsWith("sha256:", StringComparison.Ordinal) ? $"{from}@{tag}" : $"{from}:{tag}";
        string? error;
        lock (gate)
        {
            if (!registry.Contains(image))
            {
                return Error(404, $"pull access denied for {from}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied");
            }
            if (pullErrors.Remove(image, out error))
            {
                // the stream below ends with it
            }
            else
            {
                localImages.Add(image);
            }
        }

        var lines = new List<JsonObject>
        {
            new() { ["status"] = $"Pulling from {from}", ["id"] = tag },
            new() { ["status"] = "Pulling fs layer", ["id"] = "a1b2c3d4e5f6" },
            new() { ["status"] = "Downloading", ["progressDetail"] = new JsonObject { ["current"] = 1_048_576, ["total"] = 3_145_728 }, ["progress"] = "[=====>     ]  1.049MB/3.146MB", ["id"] = "a1b2c3d4e5f6" },
            new() { ["status"] = "Downloading", ["progressDetail"] = new JsonObject { ["current"] = 2_097_152, ["total"] = 3_145_728 }, ["progress"] = "[=========> ]  2.097MB/3.146MB", ["id"] = "a1b2c3d4e5f6" },
        };
        if (error is not null)
        {
            lines.Add(new() { ["errorDetail"] = new JsonObject { ["message"] = error }, ["error"] = error });
        }
        else
        {
            lines.Add(new() { ["status"] = "Pull complete", ["progressDetail"] = new JsonObject(), ["id"] = "a1b2c3d4e5f6" });
            lines.Add(new() { ["status"] = $"Digest: {ImageId(image)}" });
            lines.Add(new() { ["status"] = $"Status: Downloaded newer image for {image}" });
        }
        return new Reply(200, null, async response =>
        {
            foreach (var line in lines)
            {
                await response.WriteAsync(line.ToJsonString() + "\r\n");
                await response.Body.FlushAsync();
            }
        });
    }

    private Reply InspectImage(Call call)
    {
        var name = call.Operation.Values["name"];
        lock (gate)
        {
            return localImages.Contains(Normalize(name))
                ? Json(200, new JsonObject { ["Id"] = ImageId(Normalize(name)), ["RepoTags"] = new JsonArray(Normalize(name)), ["Os"] = "linux", ["Architecture"] = "amd64" })
                : Error(404, $"No such image: {name}");
        }
    }

    private Reply Distribution(Call call)
    {
        var name = call.Operation.Values["name"];
        lock (gate)
        {
            return registry.Contains(Normalize(name))
                ? Json(200, new JsonObject
                {
                    ["Descriptor"] = new JsonObject { ["mediaType"] = "application/vnd.oci.image.index.v1+json", ["digest"] = ImageId(Normalize(name)), ["size"] = 1024 },
                    ["Platforms"] = new JsonArray(new JsonObject { ["architecture"] = "amd64", ["os"] = "linux" }),
                })
                : Error(401, "errors:\ndenied: requested access to the resource is denied\nunauthorized: authentication required\n");
        }
    }

    private Reply WithContainer(Call call, Func<StandInContainer, Reply> then)
    {
        var id = call.Operation.Values["id"];
        StandInContainer? container;
        lock (gate)
        {
            container = containers.Values.FirstOrDefault(c => c.Id == id || c.Name == id.TrimStart('/'))
                ?? (id.Length >= 4 ? containers.Values.SingleOrDefault(c => c.Id.StartsWith(id, StringComparison.Ordinal)) : null);
        }
        return container is null ? Error(404, $"No such container: {id}") : then(container);
    }

    private Rule? Take(string operation)
    {
        lock (gate)
        {
            var rule = rules.FirstOrDefault(r => r.Operation == operation && r.Remaining > 0);
            if (rule is not null)
            {
                rule.Remaining--;
            }
            return rule;
        }
    }

    private void Record(DockerRequest request)
    {
        lock (gate)
        {
            requests.Add(request);
            if (request.Violation is { } problem)
            {
                violations.Add(new DockerViolation(request.Method, request.Path, problem));
            }
        }
    }

    private void Violation(string method, string path, string problem)
    {
        lock (gate)
        {
            violations.Add(new DockerViolation(method, path, problem));
        }
    }

    private T Snapshot<T>(Func<T> read)
    {
        lock (gate)
        {
            return read();
        }
    }

    private static JsonElement? TryParse(string body)
    {
        try
        {
            return JsonDocument.Parse(body).RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static Reply Json(int status, JsonNode body) => new(status, body);

    private static Reply Error(int status, string message) => new(status, new JsonObject { ["message"] = message });

    private static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    private static string ImageId(string image) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(image)));

    private static bool IsSignedBy(X509Certificate2 certificate, X509Certificate2 authority)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    private sealed record Call(DockerOperation Operation, IQueryCollection Query, string Body);

    private sealed record Reply(int Status, JsonNode? Body, Func<HttpResponse, Task>? Stream = null);

    private sealed class Rule(string operation, int times, int? status, string? message, TimeSpan delay)
    {
        public string Operation { get; } = operation;
        public int Remaining { get; set; } = times;
        public int? Status { get; } = status;
        public string? Message { get; } = message;
        public TimeSpan Delay { get; } = delay;
    }
}
