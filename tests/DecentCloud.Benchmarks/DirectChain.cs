using DurableTask.Core;

namespace DecentCloud.Benchmarks;

/// <summary>
/// The sample app's <c>Chain</c> orchestration (tests/FunctionsHost.SampleApp/Durable.cs) written for the Durable Task
/// Framework itself: three activities in turn, each appending its step's number, so the output is "input+1+2+3".
/// </summary>
internal sealed class DirectChain : TaskOrchestration<string, string>
{
    public override async Task<string> RunTask(OrchestrationContext context, string input)
    {
        var one = await context.ScheduleTask<string>(SampleAppSettings.Activity, "", input);
        var two = await context.ScheduleTask<string>(SampleAppSettings.Activity, "", one);
        return await context.ScheduleTask<string>(SampleAppSettings.Activity, "", two);
    }
}

/// <summary>The sample app's <c>Step</c> activity: appends the step's number.</summary>
internal sealed class DirectStep : TaskActivity<string, string>
{
    protected override string Execute(TaskContext context, string input) => input + "+" + (input.Count(c => c == '+') + 1);
}
