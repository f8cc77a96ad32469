namespace DecentCloud.Functions.Hosting.Http;

/// <summary>The authorization levels of an Azure Functions HTTP trigger.</summary>
public enum AuthorizationLevel
{
    /// <summary>No key needed.</summary>
    Anonymous,

    /// <summary>A key for this function, a host key or the master key.</summary>
    Function,

    /// <summary>The master key only.</summary>
    Admin,
}
