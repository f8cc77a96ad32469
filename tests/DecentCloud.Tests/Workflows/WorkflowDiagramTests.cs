using DecentCloud.Functions.Chatwoot.Onboarding;
using DecentCloud.Functions.Workflows;
using DecentCloud.Testing;

namespace DecentCloud.Tests.Workflows;

public sealed class WorkflowDiagramTests
{
    private const string Begin = "```mermaid\n";
    private static readonly string Doc = Path.Combine(RepositoryRoot.Path, "docs", "workflows.md");

    [Fact]
    public void The_diagram_follows_the_transition_function_step_by_step()
    {
        var diagram = WorkflowDiagram.Mermaid(new WorkflowDefinition("t", ["a", "b"], 3, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4)));

        Assert.Contains("[*] --> a: started", diagram, StringComparison.Ordinal);
        Assert.Contains("a --> b: succeeded", diagram, StringComparison.Ordinal);
        Assert.Contains("b --> completed: succeeded", diagram, StringComparison.Ordinal);
        Assert.Contains("a --> a: retryable error, attempt < 3 (retried later, back-off)", diagram, StringComparison.Ordinal);
        Assert.Contains("a --> a_failed: retryable error on attempt 3", diagram, StringComparison.Ordinal);
        Assert.Contains("b --> b_failed: permanent error", diagram, StringComparison.Ordinal);
        Assert.Contains("b_failed --> b: resumed by an admin", diagram, StringComparison.Ordinal);
        Assert.DoesNotContain("completed -->", diagram, StringComparison.Ordinal);
    }

    /// <summary>docs/workflows.md holds the diagram generated from the code; regenerate with UPDATE_DOCS=1 and this test.</summary>
    [Fact]
    public void Docs_show_the_chatwoot_onboarding_diagram_generated_from_its_code()
    {
        var generated = WorkflowDiagram.Mermaid(ChatwootOnboarding.DefinitionFor(new ChatwootOnboardingOptions()));
        var text = File.ReadAllText(Doc).ReplaceLineEndings("\n");
        var start = text.IndexOf(Begin, StringComparison.Ordinal) + Begin.Length;
        var end = text.IndexOf("```", start, StringComparison.Ordinal);
        if (Environment.GetEnvironmentVariable("UPDATE_DOCS") == "1")
        {
            File.WriteAllText(Doc, text[..start] + generated + text[end..]);
            return;
        }

        Assert.True(start >= Begin.Length && end > start, $"{Doc} has no mermaid block");
        Assert.Equal(generated, text[start..end]);
    }
}
