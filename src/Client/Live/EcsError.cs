using System.Text.Json.Nodes;

namespace Scheduler.Client.Live;

/// <summary>
/// An error as the ECS JSON protocol returns it: an HTTP status and a body of <c>__type</c> and <c>message</c>, which
/// the AWS CLI prints as "An error occurred (Type) when calling the Op operation: message".
/// </summary>
public sealed record EcsError(int Status, string Type, string Message)
{
    public JsonObject Body() => new() { ["__type"] = Type, ["message"] = Message };

    public static EcsError MissingAuthenticationToken() => new(400, "MissingAuthenticationTokenException", "Missing Authentication Token");

    public static EcsError UnrecognizedClient() => new(400, "UnrecognizedClientException", "The security token included in the request is invalid.");

    public static EcsError InvalidSignature(string message) => new(400, "InvalidSignatureException", message);

    public static EcsError IncompleteSignature(string message) => new(400, "IncompleteSignatureException", message);

    public static EcsError Throttling() => new(400, "ThrottlingException", "Rate exceeded");

    public static EcsError InvalidParameter(string message) => new(400, "InvalidParameterException", message);

    public static EcsError Client(string message) => new(400, "ClientException", message);

    public static EcsError ClusterNotFound() => new(400, "ClusterNotFoundException", "Cluster not found.");

    public static EcsError ServiceNotFound() => new(400, "ServiceNotFoundException", "Service not found.");

    public static EcsError ServiceNotActive() => new(400, "ServiceNotActiveException", "Service was not ACTIVE.");

    public static EcsError ClusterContainsServices() => new(400, "ClusterContainsServicesException",
        "The Cluster cannot be deleted while Services are active.");

    public static EcsError ClusterContainsTasks() => new(400, "ClusterContainsTasksException",
        "The Cluster cannot be deleted while Tasks are active.");

    public static EcsError AccessDenied(string accountId, string action, string resource) => new(400, "AccessDeniedException",
        $"User: arn:aws:iam::{accountId}:user/scheduler is not authorized to perform: ecs:{action} on resource: {resource} because no resource-based policy allows the ecs:{action} action");

    public static EcsError UnknownOperation(string target) => new(400, "UnknownOperationException", $"Unknown operation {target}");

    public static EcsError Serialization(string message) => new(400, "SerializationException", message);
}

/// <summary>Thrown inside an operation to answer with an <see cref="EcsError"/>.</summary>
public sealed class EcsException(EcsError error) : Exception(error.Message)
{
    public EcsError Error { get; } = error;
}
