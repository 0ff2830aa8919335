using System.Text;
using System.Text.Json;
using Scheduler.Client.Live;

namespace Scheduler.Client.Tests.Live;

/// <summary>Signature Version 4 verification against signatures that botocore (the AWS SDK for Python) computes.</summary>
public sealed class SigV4Tests
{
    private const string Key = "AKIDEXAMPLE00000001";
    private const string Secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    private const string Body = """{"clusters":["prod"],"include":["TAGS"]}""";

    /// <summary>Signs a DescribeClusters request with botocore's SigV4Auth and returns the headers it sent.</summary>
    private static List<KeyValuePair<string, string>> BotocoreHeaders(string key, string secret, string body, string region = "us-east-1")
    {
        const string script = """
            import json, sys
            from botocore.auth import SigV4Auth
            from botocore.awsrequest import AWSRequest
            from botocore.credentials import Credentials
            key, secret, region, body = sys.argv[1], sys.argv[2], sys.argv[3], sys.stdin.read()
            req = AWSRequest(method="POST", url="http://127.0.0.1:4566/", data=body.encode(), headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.DescribeClusters"})
            SigV4Auth(Credentials(key, secret), "ecs", region).add_auth(req)
            print(json.dumps(dict(req.headers.items())))
            """;
        var (exit, stdout, stderr) = AwsTools.Run("python3", ["-c", script, key, secret, region], stdin: body);
        Assert.True(exit == 0, stderr);
        var headers = JsonSerializer.Deserialize<Dictionary<string, string>>(stdout)!;
        var list = headers.Select(h => new KeyValuePair<string, string>(h.Key, h.Value)).ToList();
        list.Add(new("Host", "127.0.0.1:4566"));
        return list;
    }

    private static SignedRequest Request(List<KeyValuePair<string, string>> headers, string body) =>
        new("POST", "/", "", headers, Encoding.UTF8.GetBytes(body));

    private static string? Secrets(string key) => key == Key ? Secret : null;

    [AwsFact]
    public void A_request_botocore_signed_verifies_as_its_access_key_and_region()
    {
        var check = SigV4.Verify(Request(BotocoreHeaders(Key, Secret, Body, "eu-west-1"), Body), Secrets, DateTimeOffset.UtcNow);
        Assert.True(check.Ok, check.Error?.Message);
        Assert.Equal((Key, "eu-west-1", "ecs"), (check.AccessKeyId, check.Region, check.Service));
    }

    [AwsFact]
    public void A_changed_body_or_header_fails_the_signature()
    {
        var headers = BotocoreHeaders(Key, Secret, Body);
        var tampered = SigV4.Verify(Request(headers, Body.Replace("prod", "prox")), Secrets, DateTimeOffset.UtcNow);
        Assert.Equal("InvalidSignatureException", tampered.Error?.Type);
        var retargeted = headers.Select(h => h.Key == "X-Amz-Target" ? new KeyValuePair<string, string>(h.Key, "AmazonEC2ContainerServiceV20141113.DeleteCluster") : h).ToList();
        Assert.Equal("InvalidSignatureException", SigV4.Verify(Request(retargeted, Body), Secrets, DateTimeOffset.UtcNow).Error?.Type);
    }

    [AwsFact]
    public void A_wrong_secret_an_unknown_key_and_no_signature_get_the_errors_AWS_gives()
    {
        var wrongSecret = SigV4.Verify(Request(BotocoreHeaders(Key, "not-the-secret", Body), Body), Secrets, DateTimeOffset.UtcNow);
        Assert.Equal(("InvalidSignatureException", 400), (wrongSecret.Error?.Type, wrongSecret.Error?.Status));
        Assert.StartsWith("The request signature we calculated does not match", wrongSecret.Error!.Message);

        var unknown = SigV4.Verify(Request(BotocoreHeaders("AKIDUNKNOWN", Secret, Body), Body), Secrets, DateTimeOffset.UtcNow);
        Assert.Equal(("UnrecognizedClientException", "The security token included in the request is invalid."), (unknown.Error?.Type, unknown.Error?.Message));

        var unsigned = SigV4.Verify(Request([new("Host", "127.0.0.1:4566"), new("Content-Type", "application/x-amz-json-1.1")], Body), Secrets, DateTimeOffset.UtcNow);
        Assert.Equal(("MissingAuthenticationTokenException", "Missing Authentication Token"), (unsigned.Error?.Type, unsigned.Error?.Message));
    }

    [AwsFact]
    public void A_signature_from_more_than_15_minutes_ago_has_expired()
    {
        var headers = BotocoreHeaders(Key, Secret, Body);
        Assert.True(SigV4.Verify(Request(headers, Body), Secrets, DateTimeOffset.UtcNow.AddMinutes(14)).Ok);
        var late = SigV4.Verify(Request(headers, Body), Secrets, DateTimeOffset.UtcNow.AddMinutes(16));
        Assert.Equal("InvalidSignatureException", late.Error?.Type);
        Assert.StartsWith("Signature expired", late.Error!.Message);
    }

    [AwsFact]
    public void The_load_generators_signer_writes_the_header_botocore_writes()
    {
        var headers = BotocoreHeaders(Key, Secret, Body);
        var expected = headers.Single(h => h.Key == "Authorization").Value;
        var amzDate = headers.Single(h => h.Key == "X-Amz-Date").Value;
        var signedHeaders = expected.Split("SignedHeaders=")[1].Split(',')[0].Split(';');
        var toSign = headers.Where(h => signedHeaders.Contains(h.Key.ToLowerInvariant())).ToList();
        Assert.Equal(expected, SigV4.Authorization(Request(toSign, Body), Key, Secret, "us-east-1", "ecs", amzDate));
    }

    [Fact]
    public void Our_own_signature_round_trips_and_a_single_changed_byte_breaks_it()
    {
        var amzDate = DateTimeOffset.UtcNow.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'");
        List<KeyValuePair<string, string>> headers =
        [
            new("Host", "127.0.0.1:9999"), new("X-Amz-Date", amzDate),
            new("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListClusters"), new("Content-Type", "application/x-amz-json-1.1"),
        ];
        var auth = SigV4.Authorization(Request(headers, "{}"), Key, Secret, "us-east-1", "ecs", amzDate);
        headers.Add(new("Authorization", auth));
        Assert.True(SigV4.Verify(Request(headers, "{}"), Secrets, DateTimeOffset.UtcNow).Ok);
        Assert.False(SigV4.Verify(Request(headers, "{ }"), Secrets, DateTimeOffset.UtcNow).Ok);
    }
}
