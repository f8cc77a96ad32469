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

    /// <summary>Appends the step's number; the input "fail" fails it.</summary>
    [Function(nameof(Step))]
    public static string Step([ActivityTrigger] string input) =>
        input == "fail"
            ? throw new InvalidOperationException("the step refused", new TimeoutException("the inner cause"))
            : input + "+" + (input.Count(c => c == '+') + 1);

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
