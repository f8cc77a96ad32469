// A local Proxmox VE 9 host for the calls dc-agent's Proxmox provisioner makes, built from:
//
// - proxmox-api-facts.json (SOURCE.md beside it): every request is checked against it by ProxmoxContract — the path
//   and method are an endpoint of the extract, every parameter is in its schema (Proxmox allows no others), the
//   required ones are there, and each value has its type, range, pattern, enum and format. A request that fails is
//   answered 400 {"data":null,"errors":{param:why},"message":"Parameter verification failed.\n"} as Proxmox does, and
//   kept in Violations, which the tests assert to be empty. Each answer's data is checked against the endpoint's
//   return shape too (AnswerProblems), so the stand-in cannot drift from what Proxmox sends.
// - Proxmox's runtime behaviour, read in its Perl sources (pve-http-server, pve-common, pve-manager, qemu-server):
//   the {"data": …} envelope; errors {"data":null,"message":"<text>\n"} with 401 for a bad token, 500 for runtime
//   failures, 501 for an unknown path or method, 595 for an unknown node; the API token header
//   "PVEAPIToken=USER@REALM!TOKENID=SECRET"; /cluster/nextid not reserving the id; clone, start, stop and destroy
//   answering a task id (UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<vmid>:<user>:) whose end is read from
//   /nodes/{node}/tasks/{upid}/status (status running|stopped, exitstatus OK or the error); a clone holding
//   "lock: clone" until its task ends; no 404 for a VM ("Configuration file 'nodes/<node>/qemu-server/<id>.conf' does
//   not exist", 500); destroy refused while the VM runs; the guest agent failing with 500 "QEMU guest agent is not
//   running" while the guest boots, then answering {"result":[interfaces]}; sshkeys only taken URI-encoded.
// - It serves HTTPS with a self-signed certificate made here, as a Proxmox host does out of the box; the agent must
//   pin its SHA-256 fingerprint (Fingerprint).
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DecentCloud.Agent.Provisioners.Proxmox;
using DecentCloud.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace DecentCloud.Tests.Agent.Proxmox;

/// <summary>One request as the stand-in received it (parameters without the password's value).</summary>
public sealed record ProxmoxRequest(string Method, string Path, string? Endpoint, IReadOnlyDictionary<string, string> Parameters, int Status, string? Violation);

public sealed record ProxmoxViolation(string Method, string Path, string Problem);

/// <summary>A VM as the stand-in holds it.</summary>
public sealed record ProxmoxVm(int Vmid, string Node, string? Name, bool Template, string Status, string? Lock, IReadOnlyDictionary<string, string> Config)
{
    public IReadOnlyList<string> Tags => Config.TryGetValue("tags", out var tags) ? tags.Split(';', StringSplitOptions.RemoveEmptyEntries) : [];
}

public sealed partial class ProxmoxStandIn : IAsyncDisposable
{
    public const string Node = "pve1";
    public const string OtherNode = "pve2";
    public const string TokenId = "dc-agent@pve!agent";
    public const string TokenSecret = "5f0c8a52-9d1e-4b7a-8c3f-2e6d1a9b7c40";
    public const int TemplateVmid = 9000;
    public const string Storage = "local-lvm";
    public const string Pool = "decent-cloud";
    public const long NodeMemoryBytes = 64L * 1024 * 1024 * 1024;

    private static readonly Lazy<ProxmoxApiFacts> SharedFacts = new(ProxmoxApiFacts.Load);

    private readonly Lock gate = new();
    private readonly List<ProxmoxRequest> requests = [];
    private readonly List<ProxmoxViolation> violations = [];
    private readonly List<string> answerProblems = [];
    private readonly List<FailureRule> failures = [];
    private readonly List<(string Type, string ExitStatus)> taskFailures = [];
    private readonly SortedDictionary<int, Vm> vms = [];
    private readonly Dictionary<string, ProxmoxTask> tasks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<Call, Reply>> handlers;
    private readonly X509Certificate2 certificate;
    private readonly WebApplication app;
    private int nextPid = 0x1a2b0;
    private IdTaken? idTaken;

    private ProxmoxStandIn()
    {
        certificate = CreateCertificate();
        Fingerprint = CertificatePin.Of(certificate);
        vms[TemplateVmid] = new Vm(TemplateVmid, Node)
        {
            Name = "debian-12-cloud",
            Template = true,
            Config = { ["cores"] = "1", ["memory"] = "1024", ["agent"] = "1", ["ide2"] = "local-lvm:cloudinit,media=cdrom" },
        };

        var vm = "/nodes/{node}/qemu/{vmid}";
        handlers = new Dictionary<string, Func<Call, Reply>>(StringComparer.Ordinal)
        {
            ["GET /version"] = _ => Ok(new JsonObject { ["version"] = "9.1.1", ["release"] = "9.1", ["repoid"] = "42ab2a2f0c" }),
            ["GET /cluster/nextid"] = NextId,
            ["GET /cluster/resources"] = Resources,
            ["GET /nodes/{node}/status"] = NodeStatus,
            [$"POST {vm}/clone"] = Clone,
            [$"PUT {vm}/config"] = UpdateConfig,
            [$"POST {vm}/status/start"] = Start,
            [$"POST {vm}/status/stop"] = Stop,
            [$"GET {vm}/status/current"] = CurrentStatus,
            [$"DELETE {vm}"] = Destroy,
            [$"GET {vm}/agent/network-get-interfaces"] = NetworkInterfaces,
            ["GET /nodes/{node}/tasks/{upid}/status"] = TaskStatus,
        };

        var builder = LoopbackServer.CreateBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        app = builder.Build();
        app.Run(HandleAsync);
    }

    public Uri BaseAddress { get; private set; } = new("https://127.0.0.1/");

    /// <summary>The SHA-256 fingerprint of the certificate it serves, as <c>pvenode cert info</c> prints it.</summary>
    public string Fingerprint { get; }

    public ProxmoxApiFacts Facts => SharedFacts.Value;

    public IReadOnlyList<ProxmoxRequest> Requests => Snapshot(() => requests.ToList());

    public IReadOnlyList<ProxmoxViolation> Violations => Snapshot(() => violations.ToList());

    /// <summary>Answers of the stand-in that do not have the shape the facts give (a bug of the stand-in, not of the agent).</summary>
    public IReadOnlyList<string> AnswerProblems => Snapshot(() => answerProblems.ToList());

    public IReadOnlyList<ProxmoxVm> Vms => Snapshot(() => vms.Values.Select(v => v.Snapshot()).ToList());

    /// <summary>How many status reads a task answers <c>running</c> before it ends.</summary>
    public int TaskPolls { get; set; } = 1;

    /// <summary>While set, tasks keep running until <see cref="FinishTasks"/>.</summary>
    public bool HoldTasks { get; set; }

    /// <summary>How many guest agent calls after a start answer "QEMU guest agent is not running" (the guest boots).</summary>
    public int GuestAgentBootCalls { get; set; } = 1;

    /// <summary>The guest agent never answers (a template without qemu-guest-agent).</summary>
    public bool GuestAgentMissing { get; set; }

    public static async Task<ProxmoxStandIn> StartAsync()
    {
        var standIn = new ProxmoxStandIn();
        await standIn.app.StartAsync();
        standIn.BaseAddress = LoopbackServer.AddressOf(standIn.app);
        return standIn;
    }

    /// <summary>Settings for this stand-in with one offering, <c>vm-small</c>, cloning the template on <see cref="Node"/>.</summary>
    internal ProxmoxOptions Options(string? fingerprint = null, string tokenId = TokenId) => new()
    {
        ApiUrl = new Uri(BaseAddress.GetLeftPart(UriPartial.Authority)),
        TokenId = tokenId,
        TokenSecret = TokenSecret,
        Fingerprint = fingerprint ?? Fingerprint,
        Node = Node,
        RequestTimeoutSeconds = 2,
        TaskTimeoutSeconds = 10,
        GuestAgentTimeoutSeconds = 10,
        Offerings = new(StringComparer.Ordinal)
        {
            ["vm-small"] = new ProxmoxOfferingOptions { TemplateVmid = TemplateVmid, Storage = Storage, Pool = Pool, Cores = 2, MemoryMb = 2048, User = "dc" },
        },
    };

    /// <summary>A VM that is already there (another user's, or one an earlier run of the agent made).</summary>
    public void AddVm(int vmid, string? name, string status = "stopped", string node = Node, string? tags = null, bool template = false)
    {
        lock (gate)
        {
            var vm = new Vm(vmid, node) { Name = name, Status = status, Template = template, Config = { ["cores"] = "1", ["memory"] = "1024", ["agent"] = "1" } };
            if (tags is not null)
            {
                vm.Config["tags"] = tags;
            }
            vms[vmid] = vm;
        }
    }

    /// <summary>
    /// The next <paramref name="count"/> requests matching <paramref name="match"/> (an endpoint, <c>"POST /nodes/{node}/qemu/{vmid}/clone"</c>,
    /// or a path prefix) fail with <paramref name="status"/> and Proxmox's error body; with <paramref name="afterApplying"/>
    /// the request takes effect first and only its answer is lost.
    /// </summary>
    public void FailNext(string match, int status, string message = "internal error", int count = 1, bool afterApplying = false)
    {
        lock (gate)
        {
            failures.Add(new FailureRule(match, status, message, afterApplying, TimeSpan.Zero) { Left = count });
        }
    }

    /// <summary>The next request matching <paramref name="match"/> is answered only after <paramref name="delay"/>.</summary>
    public void DelayNext(string match, TimeSpan delay)
    {
        lock (gate)
        {
            failures.Add(new FailureRule(match, null, "", false, delay) { Left = 1 });
        }
    }

    /// <summary>The next task of <paramref name="type"/> (qmclone, qmstart, qmstop, qmdestroy) ends with <paramref name="exitStatus"/> and no effect but what it did before failing.</summary>
    public void FailNextTask(string type, string exitStatus)
    {
        lock (gate)
        {
            taskFailures.Add((type, exitStatus));
        }
    }

    /// <summary>
    /// Between the agent's <c>nextid</c> and its clone, another client takes the id (nextid does not reserve it): the
    /// clone call itself fails, or with <paramref name="inTask"/> its task does.
    /// </summary>
    public void TakeIdBeforeNextClone(bool inTask = false)
    {
        lock (gate)
        {
            idTaken = new IdTaken(inTask);
        }
    }

    /// <summary>Ends every running task now (as if the host went on working while the agent was down).</summary>
    public void FinishTasks()
    {
        lock (gate)
        {
            foreach (var task in tasks.Values.Where(t => t.ExitStatus is null))
            {
                Finish(task);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await app.DisposeAsync();
        certificate.Dispose();
    }

    private T Snapshot<T>(Func<T> read)
    {
        lock (gate)
        {
            return read();
        }
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=pve1.stand-in.test, O=PVE Cluster Node", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("pve1");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var selfSigned = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(selfSigned.Export(X509ContentType.Pfx), password: null);
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var method = request.Method.ToUpperInvariant();
        var fullPath = request.Path.Value ?? "/";
        using var reader = new StreamReader(request.Body);
        var body = await reader.ReadToEndAsync(context.RequestAborted);

        string? violation = null;
        string? endpointKey = null;
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        Reply? reply = null;
        FailureRule? failure = null;
        (ProxmoxEndpoint Endpoint, IReadOnlyDictionary<string, string> Values)? found = null;

        if (!fullPath.StartsWith("/api2/json/", StringComparison.Ordinal))
        {
            violation = $"{fullPath} is not under /api2/json";
            reply = Error(501, "no such uri");
        }
        else if (!Authenticated(request.Headers.Authorization.ToString()))
        {
            reply = Error(401, "authentication failure");
        }
        else
        {
            var path = fullPath["/api2/json".Length..];
            violation = ReadParameters(request, method, body, parameters);
            found = Facts.Find(method, path);
            if (found is null)
            {
                violation = Facts.HasPath(path) ? $"{method} is not a method of {path} in the facts" : $"{path} is not a path in the facts";
                reply = Error(501, Facts.HasPath(path) ? $"Method '{method} {fullPath}' not implemented" : "no such uri");
            }
            else
            {
                endpointKey = found.Value.Endpoint.Key;
                var all = new Dictionary<string, string>(parameters, StringComparer.Ordinal);
                foreach (var (name, value) in found.Value.Values)
                {
                    all[name] = value;
                }
                var errors = ProxmoxContract.CheckParameters(found.Value.Endpoint, all);
                if (errors.Count == 0 && parameters.TryGetValue("sshkeys", out var sshkeys) && SshKeysProblem(sshkeys) is { } keyProblem)
                {
                    errors["sshkeys"] = keyProblem;
                }
                if (errors.Count > 0)
                {
                    violation ??= string.Join("; ", errors.Select(e => $"{e.Key}: {e.Value}"));
                    reply = new Reply(400, null, "Parameter verification failed.", errors);
                }
                else if (violation is not null)
                {
                    reply = Error(400, violation);
                }
            }
        }

        if (reply is null)
        {
            lock (gate)
            {
                failure = TakeFailure(method, endpointKey!, fullPath["/api2/json".Length..]);
            }
            if (failure?.Delay > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(failure.Delay, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    Record(method, fullPath, endpointKey, parameters, 0, violation);
                    return;
                }
            }
            if (failure?.Status is null || failure.AfterApplying)
            {
                lock (gate)
                {
                    reply = handlers[endpointKey!](new Call(found!.Value.Values, parameters));
                    if (reply.Status == 200)
                    {
                        answerProblems.AddRange(ProxmoxContract.CheckAnswer(found.Value.Endpoint, reply.Data).Select(p => $"{endpointKey}: {p}"));
                    }
                }
            }
            if (failure?.Status is { } status)
            {
                reply = Error(status, failure.Message);
            }
        }

        Record(method, fullPath, endpointKey, parameters, reply!.Status, violation);
        await WriteAsync(context, reply);
    }

    private void Record(string method, string path, string? endpoint, Dictionary<string, string> parameters, int status, string? violation)
    {
        var shown = parameters.ToDictionary(p => p.Key, p => p.Key == "cipassword" ? "(secret)" : p.Value, StringComparer.Ordinal);
        lock (gate)
        {
            requests.Add(new ProxmoxRequest(method, path, endpoint, shown, status, violation));
            if (violation is not null)
            {
                violations.Add(new ProxmoxViolation(method, path, violation));
            }
        }
    }

    private static async Task WriteAsync(HttpContext context, Reply reply)
    {
        context.Response.StatusCode = reply.Status;
        context.Response.ContentType = "application/json;charset=UTF-8";
        var envelope = new JsonObject { ["data"] = reply.Data?.DeepClone() };
        if (reply.Message is not null)
        {
            envelope["message"] = reply.Message + "\n";
        }
        if (reply.Errors is { Count: > 0 } errors)
        {
            envelope["errors"] = new JsonObject(errors.Select(e => KeyValuePair.Create(e.Key, (JsonNode?)JsonValue.Create(e.Value + "\n"))));
        }
        await context.Response.WriteAsync(envelope.ToJsonString(), context.RequestAborted);
    }

    /// <summary><c>PVEAPIToken=USER@REALM!TOKENID=SECRET</c>: the value after the key, up to <c>;</c>, URL-unescaped.</summary>
    private static bool Authenticated(string header)
    {
        var match = TokenHeader().Match(header);
        if (!match.Success)
        {
            return false;
        }
        var value = Uri.UnescapeDataString(match.Groups["value"].Value);
        var equals = value.IndexOf('=', StringComparison.Ordinal);
        return equals > 0 && value[..equals] == TokenId && value[(equals + 1)..] == TokenSecret;
    }

    /// <summary>Query parameters, then a form or JSON body (query wins, as in Proxmox). Answers a violation of the request's form, if any.</summary>
    private static string? ReadParameters(HttpRequest request, string method, string body, Dictionary<string, string> parameters)
    {
        string? problem = null;
        if (body.Length > 0)
        {
            if (method is "GET" or "DELETE")
            {
                problem = $"{method} with a body";
            }
            else if (request.ContentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.Ordinal) == true)
            {
                foreach (var (key, values) in QueryHelpers.ParseQuery(body))
                {
                    if (values.Count > 1)
                    {
                        problem = $"'{key}' is sent {values.Count} times";
                    }
                    parameters[key] = values.ToString();
                }
            }
            else if (request.ContentType?.StartsWith("application/json", StringComparison.Ordinal) == true && JsonNode.Parse(body) is JsonObject json)
            {
                foreach (var (key, value) in json)
                {
                    parameters[key] = value?.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value?.ToJsonString() ?? "";
                }
            }
            else
            {
                problem = $"a body of type '{request.ContentType}' (Proxmox reads forms and JSON)";
            }
        }
        foreach (var (key, values) in request.Query)
        {
            parameters[key] = values.ToString();
        }
        return problem;
    }

    /// <summary>
    /// qemu-server decodes sshkeys (URI-encoded, space as %20) and checks each line is an SSH public key; a key sent with
    /// '+' for spaces or not encoded is refused before that, by the urlencoded format.
    /// </summary>
    private static string? SshKeysProblem(string encoded)
    {
        var keys = Uri.UnescapeDataString(encoded).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return keys.Length > 0 && keys.All(k => SshPublicKey().IsMatch(k.Trim())) ? null : "unable to parse ssh keys after decoding";
    }

    private FailureRule? TakeFailure(string method, string endpointKey, string path)
    {
        var rule = failures.FirstOrDefault(f => f.Left > 0 && (f.Match == endpointKey || path.StartsWith(f.Match, StringComparison.Ordinal)));
        if (rule is not null)
        {
            rule.Left--;
        }
        return rule;
    }

    private Reply NextId(Call call)
    {
        if (call.Parameters.TryGetValue("vmid", out var asked))
        {
            var id = int.Parse(asked, CultureInfo.InvariantCulture);
            return vms.ContainsKey(id) ? new Reply(400, null, "Parameter verification failed.", new() { ["vmid"] = $"VM {id} already exists" }) : Ok(id);
        }
        var next = 100;
        while (vms.ContainsKey(next))
        {
            next++;
        }
        return Ok(next);
    }

    private Reply Resources(Call call)
    {
        var type = call.Parameters.GetValueOrDefault("type");
        var list = new JsonArray();
        if (type is null or "node")
        {
            foreach (var node in new[] { Node, OtherNode })
            {
                list.Add(new JsonObject { ["id"] = $"node/{node}", ["type"] = "node", ["node"] = node, ["status"] = "online", ["maxcpu"] = 16, ["maxmem"] = NodeMemoryBytes });
            }
        }
        if (type is null or "vm")
        {
            foreach (var vm in vms.Values)
            {
                var entry = new JsonObject
                {
                    ["id"] = $"qemu/{vm.Vmid}",
                    ["type"] = "qemu",
                    ["vmid"] = vm.Vmid,
                    ["node"] = vm.Node,
                    ["status"] = vm.Status,
                    ["template"] = vm.Template ? 1 : 0,
                    ["maxcpu"] = int.Parse(vm.Config.GetValueOrDefault("cores", "1"), CultureInfo.InvariantCulture),
                    ["maxmem"] = long.Parse(vm.Config.GetValueOrDefault("memory", "512"), CultureInfo.InvariantCulture) * 1024 * 1024,
                };
                if (vm.Name is not null)
                {
                    entry["name"] = vm.Name;
                }
                if (vm.Config.TryGetValue("tags", out var tags))
                {
                    entry["tags"] = tags;
                }
                if (vm.Lock is not null)
                {
                    entry["lock"] = vm.Lock;
                }
                list.Add(entry);
            }
        }
        return Ok(list);
    }

    private Reply NodeStatus(Call call) => WithNode(call, node =>
    {
        var used = vms.Values.Where(v => v.Node == node && v.Status == "running").Sum(v => long.Parse(v.Config.GetValueOrDefault("memory", "512"), CultureInfo.InvariantCulture) * 1024 * 1024) + 4L * 1024 * 1024 * 1024;
        return Ok(new JsonObject
        {
            ["boot-info"] = new JsonObject { ["mode"] = "efi", ["secureboot"] = 0 },
            ["cpu"] = 0.125,
            ["cpuinfo"] = new JsonObject { ["cores"] = 8, ["cpus"] = 16, ["model"] = "AMD EPYC 7302P 16-Core Processor", ["sockets"] = 1 },
            ["current-kernel"] = new JsonObject { ["machine"] = "x86_64", ["release"] = "6.14.8-2-pve", ["sysname"] = "Linux", ["version"] = "#1 SMP PREEMPT_DYNAMIC PMX 6.14.8-2" },
            ["loadavg"] = new JsonArray("0.52", "0.61", "0.70"),
            ["memory"] = new JsonObject { ["total"] = NodeMemoryBytes, ["used"] = used, ["free"] = NodeMemoryBytes - used, ["available"] = NodeMemoryBytes - used },
            ["pveversion"] = "pve-manager/9.1.1/42ab2a2f0c",
            ["rootfs"] = new JsonObject { ["total"] = 100_000_000_000L, ["used"] = 20_000_000_000L, ["free"] = 80_000_000_000L, ["avail"] = 75_000_000_000L },
        });
    });

    private Reply Clone(Call call) => WithVm(call, source =>
    {
        var newid = int.Parse(call.Parameters["newid"], CultureInfo.InvariantCulture);
        var full = call.Parameters.GetValueOrDefault("full") == "1" || !source.Template;
        if (call.Parameters.TryGetValue("storage", out var storage))
        {
            if (!full)
            {
                return Error(500, "parameter 'storage' not allowed for linked clones");
            }
            if (storage != Storage)
            {
                return Error(500, $"storage '{storage}' does not exist");
            }
        }
        if (call.Parameters.TryGetValue("pool", out var pool) && pool != Pool)
        {
            return Error(500, $"pool '{pool}' does not exist");
        }

        var taken = idTaken;
        idTaken = null;
        if (taken is not null)
        {
            vms[newid] = new Vm(newid, Node) { Name = "someone-elses-vm", Config = { ["cores"] = "1", ["memory"] = "512" } };
        }
        if (vms.ContainsKey(newid))
        {
            return taken is { InTask: true }
                ? Ok(NewTask(source.Node, "qmclone", source.Vmid, () => $"unable to create VM {newid}: config file already exists"))
                : Error(500, $"unable to create VM {newid}: config file already exists");
        }

        var clone = new Vm(newid, source.Node) { Name = call.Parameters.GetValueOrDefault("name") ?? $"Copy-of-VM-{source.Name}", Lock = "clone" };
        foreach (var (key, value) in source.Config.Where(c => c.Key != "tags"))
        {
            clone.Config[key] = value;
        }
        if (call.Parameters.TryGetValue("description", out var description))
        {
            clone.Config["description"] = description;
        }
        vms[newid] = clone;
        return Ok(NewTask(source.Node, "qmclone", source.Vmid, () =>
        {
            clone.Lock = null;
            return null;
        }, onFailure: () => clone.Lock = null));
    });

    private Reply UpdateConfig(Call call) => WithVm(call, vm =>
    {
        if (vm.Lock is not null && call.Parameters.GetValueOrDefault("skiplock") != "1")
        {
            return Error(500, $"VM {vm.Vmid} is locked ({vm.Lock})");
        }
        foreach (var (key, value) in call.Parameters.Where(p => p.Key is not ("node" or "vmid" or "delete" or "digest" or "skiplock")))
        {
            vm.Config[key] = key == "tags" ? string.Join(';', value.Split([';', ',', ' '], StringSplitOptions.RemoveEmptyEntries).Select(t => t.ToLowerInvariant()).Distinct()) : value;
        }
        foreach (var key in (call.Parameters.GetValueOrDefault("delete") ?? "").Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries))
        {
            vm.Config.Remove(key);
        }
        return Ok(null);
    });

    private Reply Start(Call call) => WithVm(call, vm =>
    {
        if (vm.Template)
        {
            return Error(500, "you can't start a vm if it's a template");
        }
        if (vm.Lock is not null)
        {
            return Error(500, $"VM {vm.Vmid} is locked ({vm.Lock})");
        }
        return Ok(NewTask(vm.Node, "qmstart", vm.Vmid, () =>
        {
            if (vm.Status == "running")
            {
                return $"VM {vm.Vmid} already running";
            }
            vm.Status = "running";
            vm.GuestAgentCallsLeft = GuestAgentBootCalls;
            return null;
        }));
    });

    private Reply Stop(Call call) => WithVm(call, vm =>
    {
        if (vm.Lock is not null)
        {
            return Error(500, $"VM {vm.Vmid} is locked ({vm.Lock})");
        }
        return Ok(NewTask(vm.Node, "qmstop", vm.Vmid, () =>
        {
            vm.Status = "stopped";
            return null;
        }));
    });

    private Reply CurrentStatus(Call call) => WithVm(call, vm =>
    {
        // The host works on while nobody reads a task's status (an agent that crashed reads the VM's lock instead).
        foreach (var task in tasks.Values.Where(t => t.ExitStatus is null).ToList())
        {
            Advance(task);
        }
        var status = new JsonObject
        {
            ["vmid"] = vm.Vmid,
            ["status"] = vm.Status,
            ["qmpstatus"] = vm.Status,
            ["uptime"] = vm.Status == "running" ? 42 : 0,
            ["agent"] = vm.Config.GetValueOrDefault("agent", "0").StartsWith('1') ? 1 : 0,
            ["cpus"] = int.Parse(vm.Config.GetValueOrDefault("cores", "1"), CultureInfo.InvariantCulture),
            ["maxmem"] = long.Parse(vm.Config.GetValueOrDefault("memory", "512"), CultureInfo.InvariantCulture) * 1024 * 1024,
            ["ha"] = new JsonObject { ["managed"] = 0 },
        };
        if (vm.Name is not null)
        {
            status["name"] = vm.Name;
        }
        if (vm.Lock is not null)
        {
            status["lock"] = vm.Lock;
        }
        if (vm.Config.TryGetValue("tags", out var tags))
        {
            status["tags"] = tags;
        }
        if (vm.Template)
        {
            status["template"] = 1;
        }
        return Ok(status);
    });

    private Reply Destroy(Call call) => WithVm(call, vm =>
    {
        if (vm.Status == "running")
        {
            return Error(500, $"VM {vm.Vmid} is running - destroy failed");
        }
        if (vm.Lock is not null && call.Parameters.GetValueOrDefault("skiplock") != "1")
        {
            return Error(500, $"VM {vm.Vmid} is locked ({vm.Lock})");
        }
        vm.Lock = "destroyed";
        return Ok(NewTask(vm.Node, "qmdestroy", vm.Vmid, () =>
        {
            vms.Remove(vm.Vmid);
            return null;
        }, onFailure: () => vm.Lock = null));
    });

    private Reply NetworkInterfaces(Call call) => WithVm(call, vm =>
    {
        if (!vm.Config.GetValueOrDefault("agent", "0").StartsWith('1'))
        {
            return Error(500, "No QEMU guest agent configured");
        }
        if (vm.Status != "running")
        {
            return Error(500, $"VM {vm.Vmid} is not running");
        }
        if (GuestAgentMissing || vm.GuestAgentCallsLeft > 0)
        {
            vm.GuestAgentCallsLeft--;
            return Error(500, "QEMU guest agent is not running");
        }
        var ipv4 = IpConfigAddress(vm) ?? $"10.10.{vm.Vmid / 256}.{vm.Vmid % 256}";
        var mac = $"bc:24:11:00:{vm.Vmid / 256 % 256:x2}:{vm.Vmid % 256:x2}";
        return Ok(new JsonObject
        {
            ["result"] = new JsonArray(
                Interface("lo", "00:00:00:00:00:00", ("127.0.0.1", "ipv4", 8), ("::1", "ipv6", 128)),
                Interface("eth0", mac, (ipv4, "ipv4", 24), ($"fe80::be24:11ff:fe00:{vm.Vmid % 65536:x}", "ipv6", 64))),
        });
    });

    private static string? IpConfigAddress(Vm vm) =>
        vm.Config.GetValueOrDefault("ipconfig0") is { } config && config.Split(',').FirstOrDefault(p => p.StartsWith("ip=", StringComparison.Ordinal)) is { } ip
            && ip[3..] is var value && value != "dhcp" && value.Contains('/', StringComparison.Ordinal)
            ? value[..value.IndexOf('/', StringComparison.Ordinal)]
            : null;

    private static JsonObject Interface(string name, string mac, params (string Address, string Type, int Prefix)[] addresses) => new()
    {
        ["name"] = name,
        ["hardware-address"] = mac,
        ["ip-addresses"] = new JsonArray([.. addresses.Select(a => (JsonNode)new JsonObject { ["ip-address"] = a.Address, ["ip-address-type"] = a.Type, ["prefix"] = a.Prefix })]),
        ["statistics"] = new JsonObject { ["rx-bytes"] = 1024, ["tx-bytes"] = 2048, ["rx-packets"] = 10, ["tx-packets"] = 20, ["rx-errs"] = 0, ["tx-errs"] = 0, ["rx-dropped"] = 0, ["tx-dropped"] = 0 },
    };

    private Reply TaskStatus(Call call)
    {
        var upid = call.Values["upid"];
        if (!tasks.TryGetValue(upid, out var task) || task.Node != call.Values["node"])
        {
            return Error(500, $"no such task '{upid}'");
        }
        Advance(task);
        var status = new JsonObject
        {
            ["upid"] = task.Upid,
            ["node"] = task.Node,
            ["pid"] = task.Pid,
            ["pstart"] = task.Pstart,
            ["starttime"] = task.StartTime,
            ["type"] = task.Type,
            ["id"] = task.Id,
            ["user"] = TokenId,
            ["status"] = task.ExitStatus is null ? "running" : "stopped",
        };
        if (task.ExitStatus is not null)
        {
            status["exitstatus"] = task.ExitStatus;
        }
        return Ok(status);
    }

    /// <summary>A task; <paramref name="end"/> runs when it ends and answers its error (null: OK).</summary>
    private string NewTask(string node, string type, int vmid, Func<string?> end, Action? onFailure = null)
    {
        var pid = nextPid++;
        var start = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var upid = string.Create(CultureInfo.InvariantCulture, $"UPID:{node}:{pid:X8}:{pid * 7:X8}:{start:X8}:{type}:{vmid}:{TokenId}:");
        var failure = taskFailures.FindIndex(f => f.Type == type);
        string? failWith = null;
        if (failure >= 0)
        {
            failWith = taskFailures[failure].ExitStatus;
            taskFailures.RemoveAt(failure);
        }
        tasks[upid] = new ProxmoxTask(upid, node, type, vmid.ToString(CultureInfo.InvariantCulture), pid, pid * 7, start, failWith is null ? end : () =>
        {
            onFailure?.Invoke();
            return failWith;
        })
        { PollsLeft = TaskPolls };
        return upid;
    }

    private void Advance(ProxmoxTask task)
    {
        if (task.ExitStatus is not null || HoldTasks)
        {
            return;
        }
        if (task.PollsLeft > 0)
        {
            task.PollsLeft--;
        }
        else
        {
            Finish(task);
        }
    }

    private static void Finish(ProxmoxTask task) => task.ExitStatus = task.End() ?? "OK";

    private Reply WithNode(Call call, Func<string, Reply> then)
    {
        var node = call.Values["node"];
        return node is Node or OtherNode ? then(node) : Error(595, $"no such cluster node '{node}'");
    }

    private Reply WithVm(Call call, Func<Vm, Reply> then) => WithNode(call, node =>
    {
        var vmid = int.Parse(call.Values["vmid"], CultureInfo.InvariantCulture);
        return vms.TryGetValue(vmid, out var vm) && vm.Node == node
            ? then(vm)
            : Error(500, $"Configuration file 'nodes/{node}/qemu-server/{vmid}.conf' does not exist");
    });

    private static Reply Ok(JsonNode? data) => new(200, data, null, null);

    private static Reply Error(int status, string message) => new(status, null, message, null);

    [GeneratedRegex(@"^PVEAPIToken[= ](?<value>[^;]+)")]
    private static partial Regex TokenHeader();

    [GeneratedRegex(@"^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/=]+( .*)?$")]
    private static partial Regex SshPublicKey();

    private sealed record Call(IReadOnlyDictionary<string, string> Values, IReadOnlyDictionary<string, string> Parameters);

    private sealed record Reply(int Status, JsonNode? Data, string? Message, Dictionary<string, string>? Errors);

    private sealed record IdTaken(bool InTask);

    private sealed record FailureRule(string Match, int? Status, string Message, bool AfterApplying, TimeSpan Delay)
    {
        public int Left { get; set; }
    }

    private sealed class Vm(int vmid, string node)
    {
        public int Vmid { get; } = vmid;

        public string Node { get; } = node;

        public string? Name { get; set; }

        public bool Template { get; set; }

        public string Status { get; set; } = "stopped";

        public string? Lock { get; set; }

        public int GuestAgentCallsLeft { get; set; }

        public Dictionary<string, string> Config { get; } = new(StringComparer.Ordinal);

        public ProxmoxVm Snapshot() => new(Vmid, Node, Name, Template, Status, Lock, new Dictionary<string, string>(Config, StringComparer.Ordinal));
    }

    private sealed record ProxmoxTask(string Upid, string Node, string Type, string Id, int Pid, int Pstart, long StartTime, Func<string?> End)
    {
        public int PollsLeft { get; set; }

        public string? ExitStatus { get; set; }
    }
}
