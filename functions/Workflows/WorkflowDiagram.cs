using System.Globalization;
using System.Text;

namespace DecentCloud.Functions.Workflows;

/// <summary>
/// A Mermaid state diagram of a workflow, found by running <see cref="WorkflowTransitions.Apply"/> on every event in
/// every state it can reach: the diagram is what the code does, not a drawing of what it was meant to do.
/// </summary>
public static class WorkflowDiagram
{
    public static string Mermaid(WorkflowDefinition definition)
    {
        var now = DateTimeOffset.UnixEpoch;
        var edges = new List<(string From, string To, string Label)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<WorkflowState>([WorkflowState.New]);
        while (pending.Count > 0)
        {
            var state = pending.Dequeue();
            // Each attempt is its own state here (the last one fails differently); the diagram draws one node per step.
            if (!seen.Add($"{state.Status}/{state.Step}/{state.Attempt}"))
            {
                continue;
            }

            foreach (var (happened, label) in Events(definition, state))
            {
                var transition = WorkflowTransitions.Apply(definition, state, happened, now);
                if (!transition.Changed)
                {
                    continue;
                }

                edges.Add((Node(state), Node(transition.State), label + Delay(transition.Command)));
                pending.Enqueue(transition.State);
            }
        }

        var text = new StringBuilder("stateDiagram-v2\n");
        foreach (var (from, to, label) in edges.Distinct())
        {
            text.Append(CultureInfo.InvariantCulture, $"    {from} --> {to}: {label}\n");
        }

        return text.ToString();
    }

    /// <summary>The events that can happen in a state; a retrying step is shown at its first and its last attempt.</summary>
    private static IEnumerable<(WorkflowEvent Event, string Label)> Events(WorkflowDefinition definition, WorkflowState state)
    {
        if (state.Status == "new")
        {
            yield return (new WorkflowEvent.Started(), "started");
        }
        else if (state.Status == WorkflowStatus.Running && state.Step is { } step)
        {
            yield return (new WorkflowEvent.StepSucceeded(step), "succeeded");
            yield return (new WorkflowEvent.StepFailed(step, "", Retryable: false), "permanent error");
            if (state.Attempt < definition.MaxAttempts)
            {
                yield return (new WorkflowEvent.StepFailed(step, "", Retryable: true), $"retryable error, attempt < {definition.MaxAttempts}");
            }
            else
            {
                yield return (new WorkflowEvent.StepFailed(step, "", Retryable: true), $"retryable error on attempt {definition.MaxAttempts}");
            }
        }
        else if (state.Status == WorkflowStatus.Failed)
        {
            yield return (new WorkflowEvent.Resumed("admin"), "resumed by an admin");
        }
    }

    private static string Delay(RunStep? command) =>
        command is { Delay: var delay } && delay > TimeSpan.Zero ? " (retried later, back-off)" : "";

    private static string Node(WorkflowState state) => state.Status switch
    {
        "new" => "[*]",
        WorkflowStatus.Completed => "completed",
        WorkflowStatus.Failed => $"{state.Step}_failed",
        // Attempts other than the first and the last behave alike; one node per step keeps the diagram readable.
        _ => state.Step!,
    };
}
