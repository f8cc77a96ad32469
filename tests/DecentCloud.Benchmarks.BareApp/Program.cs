// The smallest ASP.NET Core app that answers the function app's health route, built with the same
// slim builder the function host uses, so that the start-up benchmark's ratio is the host's own cost.
// Listens where --urls (or ASPNETCORE_URLS) says.
var app = WebApplication.CreateSlimBuilder(args).Build();
app.MapGet("/api/health", () => TypedResults.Ok());
app.Run();
