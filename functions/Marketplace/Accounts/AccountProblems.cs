using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Marketplace.Accounts;

internal static class AccountProblems
{
    public static ProblemHttpResult NotYours() =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status403Forbidden,
            title: "Not your account",
            detail: "Only the account's own key may read or change it; sign with that key.");

    public static ProblemHttpResult NoAccount(string publicKeyHex) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: "Unknown account",
            detail: $"Key {publicKeyHex} has no account; create it with PUT /api/v1/accounts/{publicKeyHex}.");

    public static ProblemHttpResult NoBilling(string publicKeyHex) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: "No billing settings",
            detail: $"Key {publicKeyHex} has no billing settings; set them with PUT /api/v1/accounts/{publicKeyHex}/billing.");

    public static ProblemHttpResult NoSshKey(string fingerprint) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: "Unknown SSH key",
            detail: $"The account has no SSH key with fingerprint {fingerprint}.");

    public static ProblemHttpResult SshKeyExists(string fingerprint) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status409Conflict,
            title: "SSH key already added",
            detail: $"The account already has the SSH key with fingerprint {fingerprint}.");

    public static ProblemHttpResult ChangedConcurrently() =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status409Conflict,
            title: "Changed concurrently",
            detail: "The settings changed while this request was processed; read them again and retry.");
}
