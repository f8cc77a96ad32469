using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace DecentCloud.FunctionsHost.SampleApp;

/// <summary>An orchestration of three activities, started and read over HTTP through the durable client binding.</summary>
public static class Durable
{
    [Function(nameof(Chain))]
    public static async Task<string> Chain([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var input = context.GetInput<string>() ?? "";
        var one = await context.CallActivityAsync<string>(nameof(Step), input);
        var two = await context.CallActivityAsync<string>(nameof(Step), one);
        return await context.CallActivityAsync<string>(nameof(Step), two);
    }

    /// <summary>
    /// Appends the step's number; the input "fail" fails it. With the setting SAMPLE_STEP_RECORDS (a folder), tests see
    /// what each run did: every run leaves <c>runs/{input}.{worker process}.{run}</c>, waits while <c>hold/{input}</c>
    /// exists, then makes its effect, <c>effects/{input}</c> naming the run, only if it is missing: a step run again
    /// (activities run at least once) changes nothing.
    /// </summary>
    [Function(nameof(Step))]
    public static async Task<string> Step([ActivityTrigger] string input, FunctionContext context)
    {
        if (input == "fail")
        {
            throw new InvalidOperationException("the step refused", new TimeoutException("the inner cause"));
        }

        if (Environment.GetEnvironmentVariable("SAMPLE_STEP_RECORDS") is { Length: > 0 } records)
        {
            await RecordAsync(records, input, context.CancellationToken);
        }

        return input + "+" + (input.Count(c => c == '+') + 1);
    }

    private static async Task RecordAsync(string folder, string input, CancellationToken cancellationToken)
    {
        var run = $"{input}.{Environment.ProcessId}.{Guid.NewGuid():N}";
        Directory.CreateDirectory(Path.Combine(folder, "runs"));
        Directory.CreateDirectory(Path.Combine(folder, "effects"));
        await File.WriteAllTextAsync(Path.Combine(folder, "runs", run), "", cancellationToken);
        while (File.Exists(Path.Combine(folder, "hold", input)))
        {
            await Task.Delay(50, cancellationToken);
        }

        var effect = Path.Combine(folder, "effects", input);
        try
        {
            await using var file = new FileStream(effect, FileMode.CreateNew);
            await file.WriteAsync(Encoding.UTF8.GetBytes(run), cancellationToken);
        }
        catch (IOException) when (File.Exists(effect))
        {
            // An earlier run of this step made it: the effect is there once, as it should be.
        }
    }

    [Function(nameof(StartChain))]
    public static async Task<IActionResult> StartChain(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "chains/{input}")] HttpRequest request,
        string input,
        [DurableClient] DurableTaskClient client)
    {
        var id = await client.ScheduleNewOrchestrationInstanceAsync(nameof(Chain), input, request.HttpContext.RequestAborted);
        return new ObjectResult(new { id }) { StatusCode = StatusCodes.Status202Accepted };
    }

    [Function(nameof(ChainStatus))]
    public static async Task<IActionResult> ChainStatus(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "chains/{id}")] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient client)
    {
        var instance = await client.GetInstanceAsync(id, getInputsAndOutputs: true, request.HttpContext.RequestAborted);
        return instance is null
            ? new NotFoundResult()
            : new OkObjectResult(new { status = instance.RuntimeStatus.ToString(), output = instance.SerializedOutput });
    }
}
