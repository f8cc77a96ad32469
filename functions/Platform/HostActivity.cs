using System.Diagnostics;

namespace DecentCloud.Functions.Platform;

/// <summary>
/// The trace of one queue message or timer run. HTTP requests get theirs from ASP.NET Core; a message or a run gets a
/// new W3C trace here, so every log line written while handling it carries a trace id of its own (the console prints
/// it from the logging scope) and the lines of one message can be found together.
/// </summary>
internal static class HostActivity
{
    public static Activity Start(string operation) =>
        new Activity(operation).SetIdFormat(ActivityIdFormat.W3C).Start();
}
