using DecentCloud.FunctionsHost.Durable;

namespace DecentCloud.Tests.LocalDurable;

/// <summary>An activity's failure as the worker reports it, read into the failure the orchestration sees, as the Durable extension reads it.</summary>
public sealed class ActivityFailureTests
{
    [Fact]
    public void The_durable_worker_extensions_serialized_failure_keeps_the_activitys_type_and_its_inner_failures()
    {
        // What the worker's durable extension (DurableSerializationException) sends for an exception with an inner one.
        const string reported = """{ "errorType": "Acme.RefusedException", "errorMessage": "creating the team: HTTP 401", "stackTrace": "   at Acme.Step()\n   at Acme.Run()", "innerFailure": { "errorType": "Acme.ApiException", "errorMessage": "HTTP 401: Invalid Access Token" }, "isNonRetriable": true }""";

        var failure = ActivityFailure.FromWorker("Microsoft.Azure.Functions.Worker.Extensions.DurableTask.Exceptions.DurableSerializationException", reported, "   at the worker");

        Assert.Equal(("Acme.RefusedException", "creating the team: HTTP 401", "   at Acme.Step()\n   at Acme.Run()", true), (failure.ErrorType, failure.Message, failure.StackTrace, failure.IsNonRetriable));
        Assert.Equal(("Acme.ApiException", "HTTP 401: Invalid Access Token"), (failure.Inner!.ErrorType, failure.Inner.Message));
        Assert.Null(failure.Inner.Inner);
    }

    [Fact]
    public void An_exceptions_text_is_read_as_its_type_and_the_first_line_of_its_message()
    {
        const string reported = "System.InvalidOperationException: the step refused\n ---> System.TimeoutException: the inner cause\n   at Sample.Step()";

        var failure = ActivityFailure.FromWorker(null, reported, "   at Sample.Step()");

        Assert.Equal(("System.InvalidOperationException", "the step refused", "   at Sample.Step()"), (failure.ErrorType, failure.Message, failure.StackTrace));
        Assert.Null(failure.Inner);
    }

    [Theory]
    [InlineData(null, "no type here", "(unknown)", "no type here")]
    [InlineData("Acme.Failure", "what went wrong\nmore", "Acme.Failure", "what went wrong")]
    [InlineData(null, "{ not json: at all", "{ not json", "at all")]
    public void Text_without_a_type_is_unknown_a_reported_type_is_used_and_text_that_only_looks_like_json_is_read_as_text(string? type, string reported, string errorType, string message)
    {
        var failure = ActivityFailure.FromWorker(type, reported, null);

        Assert.Equal((errorType, message), (failure.ErrorType, failure.Message));
    }
}
