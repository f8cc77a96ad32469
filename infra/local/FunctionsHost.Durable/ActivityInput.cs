using System.Text.Json;

namespace DecentCloud.FunctionsHost.Durable;

/// <summary>
/// An activity's input as the task hub holds it: an orchestrator in the isolated worker schedules activities through
/// the Durable Task Framework's context, which stores the input as a JSON array of one element. The Durable extension
/// hands the worker that one element (its activity input converter reads the value itself), and so does this host.
/// </summary>
public static class ActivityInput
{
    public static bool TryUnwrap(string? stored, out string? input, out string? problem)
    {
        input = null;
        problem = null;
        if (string.IsNullOrEmpty(stored))
        {
            return true;
        }

        try
        {
            using var document = JsonDocument.Parse(stored);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Array || root.GetArrayLength() != 1)
            {
                problem = $"The activity input is expected to be a JSON array of one element; it is a {root.ValueKind} of {stored.Length} characters.";
                return false;
            }

            input = root[0].GetRawText();
            return true;
        }
        catch (JsonException ex)
        {
            problem = $"The activity input is not JSON: {ex.Message}";
            return false;
        }
    }
}
