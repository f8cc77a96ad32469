using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Workflows;

/// <summary>
/// The instance row of a workflow in the <c>Workflows</c> table: PartitionKey the instance id, RowKey <c>instance</c>;
/// its history rows share the partition (RowKey <c>h-{sequence}</c>), each move written in one transaction with the row.
/// </summary>
public sealed class WorkflowInstanceEntity : ITableEntity
{
    public const string InstanceRowKey = "instance";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = InstanceRowKey;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string Workflow { get; set; } = "";

    public string Status { get; set; } = "new";

    public string? Step { get; set; }

    public int Attempt { get; set; }

    public DateTimeOffset? NextRunAt { get; set; }

    public string? LastError { get; set; }

    /// <summary>The instance's inputs as a JSON object of strings (the provider's key, say).</summary>
    public string Data { get; set; } = "{}";

    /// <summary>The queue message running the current step, and until when; another delivery of it waits.</summary>
    public string? ClaimedBy { get; set; }

    public DateTimeOffset? ClaimedUntil { get; set; }

    public int Moves { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public WorkflowState ToState() => new(Status, Step, Attempt, NextRunAt, LastError);

    public IReadOnlyDictionary<string, string> Inputs() => JsonSerializer.Deserialize<Dictionary<string, string>>(Data) ?? [];

    public void Apply(WorkflowState state)
    {
        Status = state.Status;
        Step = state.Step;
        Attempt = state.Attempt;
        NextRunAt = state.NextRunAt;
        LastError = state.LastError;
    }
}

/// <summary>One move of an instance: what happened, from where to where, and the error if any.</summary>
public sealed class WorkflowHistoryEntity : ITableEntity
{
    public const string RowKeyPrefix = "h-";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string Event { get; set; } = "";

    public string From { get; set; } = "";

    public string To { get; set; } = "";

    public string? Error { get; set; }

    public string? By { get; set; }

    public DateTimeOffset At { get; set; }

    public static string RowKeyFor(int move) => RowKeyPrefix + move.ToString("D6", CultureInfo.InvariantCulture);

    public WorkflowMoveView ToView() => new(Event, From, To, Error, By, At);
}

public sealed record WorkflowMoveView(string Event, string From, string To, string? Error, string? By, DateTimeOffset At);

public sealed record WorkflowView(string Id, string Workflow, string Status, string? Step, int Attempt, DateTimeOffset? NextRunAt, string? LastError,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, IReadOnlyList<WorkflowMoveView> History);

/// <summary>The <c>Workflows</c> table.</summary>
public sealed class WorkflowStore(TableServiceClient tables)
{
    public const string TableName = "Workflows";

    private readonly TableClient table = tables.GetTableClient(TableName);
    private volatile bool tableExists;

    public TableClient Table => table;

    public async Task<WorkflowInstanceEntity?> FindAsync(string instanceId, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<WorkflowInstanceEntity>(instanceId, WorkflowInstanceEntity.InstanceRowKey, cancellationToken: cancellationToken);
        return row.HasValue ? row.Value : null;
    }

    public async Task<bool> TryAddAsync(WorkflowInstanceEntity instance, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        try
        {
            var response = await table.AddEntityAsync(instance, cancellationToken);
            instance.ETag = response.Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status409Conflict)
        {
            return false;
        }
    }

    /// <summary>Replaces the instance If-Match its ETag, with <paramref name="move"/> added in the same transaction when given; false when it changed meanwhile.</summary>
    public async Task<bool> TryWriteAsync(WorkflowInstanceEntity instance, WorkflowHistoryEntity? move, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        List<TableTransactionAction> actions = [new(TableTransactionActionType.UpdateReplace, instance, instance.ETag)];
        if (move is not null)
        {
            actions.Add(new TableTransactionAction(TableTransactionActionType.Add, move));
        }

        try
        {
            var response = await table.SubmitTransactionAsync(actions, cancellationToken);
            instance.ETag = response.Value[0].Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is StatusCodes.Status412PreconditionFailed or StatusCodes.Status409Conflict)
        {
            return false;
        }
    }

    public async Task<List<WorkflowHistoryEntity>> HistoryAsync(string instanceId, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var moves = new List<WorkflowHistoryEntity>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {instanceId} and RowKey ge {WorkflowHistoryEntity.RowKeyPrefix} and RowKey lt {"h."}");
        await foreach (var move in table.QueryAsync<WorkflowHistoryEntity>(filter, cancellationToken: cancellationToken))
        {
            moves.Add(move);
        }

        return moves;
    }

    /// <summary>Running instances whose step was due before <paramref name="dueBefore"/> and that nobody holds: their message may be lost.</summary>
    public async IAsyncEnumerable<WorkflowInstanceEntity> OverdueAsync(DateTimeOffset dueBefore, DateTimeOffset now, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var filter = TableClient.CreateQueryFilter($"RowKey eq {WorkflowInstanceEntity.InstanceRowKey} and Status eq {WorkflowStatus.Running} and NextRunAt lt {dueBefore}");
        await foreach (var instance in table.QueryAsync<WorkflowInstanceEntity>(filter, cancellationToken: cancellationToken))
        {
            if (instance.ClaimedUntil is null || instance.ClaimedUntil < now)
            {
                yield return instance;
            }
        }
    }

    /// <summary>The instances in <paramref name="status"/>: a scan across instances, fine for an operator's occasional look.</summary>
    public async IAsyncEnumerable<WorkflowInstanceEntity> InStatusAsync(string status, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var filter = TableClient.CreateQueryFilter($"RowKey eq {WorkflowInstanceEntity.InstanceRowKey} and Status eq {status}");
        await foreach (var instance in table.QueryAsync<WorkflowInstanceEntity>(filter, cancellationToken: cancellationToken))
        {
            yield return instance;
        }
    }

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (!tableExists)
        {
            await table.CreateIfNotExistsAsync(cancellationToken);
            tableExists = true;
        }
    }
}
