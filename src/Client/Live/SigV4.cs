using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Scheduler.Client.Live;

/// <summary>An HTTP request as signature verification sees it: header names in any case, the body as sent.</summary>
public sealed record SignedRequest(string Method, string Path, string Query, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body);

/// <summary>Who signed a request (access key, and the region and service of its credential scope), or the AWS error that refuses it.</summary>
public sealed record SignatureCheck(string? AccessKeyId, string? Region, string? Service, EcsError? Error)
{
    public bool Ok => Error is null;
}

/// <summary>
/// Verifies AWS Signature Version 4 (header form, HMAC-SHA256) as an AWS endpoint does: rebuilds the canonical request
/// from what arrived, derives the signing key from the secret of the access key named in the credential scope, and
/// compares signatures in constant time. A signature dated more than 15 minutes from now is refused, as AWS does.
/// </summary>
public static class SigV4
{
    public const string Algorithm = "AWS4-HMAC-SHA256";
    public static readonly TimeSpan AllowedSkew = TimeSpan.FromMinutes(15);

    public static SignatureCheck Verify(SignedRequest request, Func<string, string?> secretOf, DateTimeOffset now)
    {
        var authorization = Header(request, "authorization");
        if (authorization is null)
        {
            return Refuse(EcsError.MissingAuthenticationToken());
        }
        if (!authorization.StartsWith(Algorithm + " ", StringComparison.Ordinal))
        {
            return Refuse(EcsError.IncompleteSignature($"Unsupported authorization type: only {Algorithm} is accepted"));
        }
        string? credential = null, signedHeaders = null, signature = null;
        foreach (var part in authorization[(Algorithm.Length + 1)..].Split(','))
        {
            var kv = part.Trim();
            var eq = kv.IndexOf('=');
            if (eq <= 0)
            {
                continue;
            }
            var (key, value) = (kv[..eq], kv[(eq + 1)..]);
            switch (key)
            {
                case "Credential": credential = value; break;
                case "SignedHeaders": signedHeaders = value; break;
                case "Signature": signature = value; break;
            }
        }
        if (credential is null || signedHeaders is null || signature is null)
        {
            var missing = new[] { ("Credential", credential), ("SignedHeaders", signedHeaders), ("Signature", signature) }
                .Where(x => x.Item2 is null).Select(x => x.Item1);
            return Refuse(EcsError.IncompleteSignature(
                $"Authorization header requires {string.Join(", ", missing.Select(m => $"'{m}'"))} parameter(s). Authorization={authorization}"));
        }
        var scope = credential.Split('/');
        if (scope.Length != 5 || scope[4] != "aws4_request")
        {
            return Refuse(EcsError.IncompleteSignature($"Credential should be scoped to a valid region, not '{credential}'."));
        }
        var (accessKey, date, region, service) = (scope[0], scope[1], scope[2], scope[3]);
        var secret = secretOf(accessKey);
        if (secret is null)
        {
            return Refuse(EcsError.UnrecognizedClient());
        }
        var amzDate = Header(request, "x-amz-date");
        if (amzDate is null || !DateTimeOffset.TryParseExact(amzDate, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var signedAt))
        {
            return Refuse(EcsError.IncompleteSignature("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."));
        }
        if (!amzDate.StartsWith(date, StringComparison.Ordinal))
        {
            return Refuse(EcsError.InvalidSignature($"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{date}' != '{amzDate[..8]}'"));
        }
        if (signedAt < now - AllowedSkew)
        {
            return Refuse(EcsError.InvalidSignature(
                $"Signature expired: {amzDate} is now earlier than {(now - AllowedSkew).UtcDateTime:yyyyMMdd'T'HHmmss'Z'} ({now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'} - 15 min.)"));
        }
        if (signedAt > now + AllowedSkew)
        {
            return Refuse(EcsError.InvalidSignature(
                $"Signature not yet current: {amzDate} is still later than {(now + AllowedSkew).UtcDateTime:yyyyMMdd'T'HHmmss'Z'} ({now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'} + 15 min.)"));
        }
        var names = signedHeaders.Split(';');
        if (!names.Contains("host"))
        {
            return Refuse(EcsError.InvalidSignature("'Host' must be a 'SignedHeader' in the AWS Authorization."));
        }
        var canonical = CanonicalRequest(request, names, signedHeaders);
        var stringToSign = $"{Algorithm}\n{amzDate}\n{date}/{region}/{service}/aws4_request\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        var expected = Hex(HMACSHA256.HashData(SigningKey(secret, date, region, service), Encoding.UTF8.GetBytes(stringToSign)));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature)))
        {
            return Refuse(EcsError.InvalidSignature(
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."));
        }
        return new SignatureCheck(accessKey, region, service, null);
    }

    /// <summary>Signs a request (the headers it names must be present); used by the load generator.</summary>
    public static string Authorization(SignedRequest request, string accessKey, string secret, string region, string service, string amzDate)
    {
        var names = request.Headers.Select(h => h.Key.ToLowerInvariant()).Distinct().Order(StringComparer.Ordinal).ToArray();
        var signedHeaders = string.Join(';', names);
        var date = amzDate[..8];
        var canonical = CanonicalRequest(request, names, signedHeaders);
        var stringToSign = $"{Algorithm}\n{amzDate}\n{date}/{region}/{service}/aws4_request\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        var signature = Hex(HMACSHA256.HashData(SigningKey(secret, date, region, service), Encoding.UTF8.GetBytes(stringToSign)));
        return $"{Algorithm} Credential={accessKey}/{date}/{region}/{service}/aws4_request, SignedHeaders={signedHeaders}, Signature={signature}";
    }

    public static string CanonicalRequest(SignedRequest request, IReadOnlyList<string> names, string signedHeaders)
    {
        var sb = new StringBuilder();
        sb.Append(request.Method).Append('\n');
        sb.Append(CanonicalPath(request.Path)).Append('\n');
        sb.Append(CanonicalQuery(request.Query)).Append('\n');
        foreach (var name in names)
        {
            var values = request.Headers.Where(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => Trim(h.Value));
            sb.Append(name).Append(':').Append(string.Join(',', values)).Append('\n');
        }
        sb.Append('\n').Append(signedHeaders).Append('\n');
        sb.Append(Header(request, "x-amz-content-sha256") is { } declared && declared != "UNSIGNED-PAYLOAD" ? declared : Hex(SHA256.HashData(request.Body)));
        return sb.ToString();
    }

    /// <summary>Derived signing keys by secret and scope: a key serves every request of its day, so it is derived once.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Secret, string Date, string Region, string Service), byte[]> Keys = new();

    private static byte[] SigningKey(string secret, string date, string region, string service)
    {
        var scope = (secret, date, region, service);
        if (Keys.TryGetValue(scope, out var known))
        {
            return known;
        }
        if (Keys.Count > 10_000)
        {
            Keys.Clear();
        }
        return Keys[scope] = DeriveSigningKey(secret, date, region, service);
    }

    private static byte[] DeriveSigningKey(string secret, string date, string region, string service)
    {
        var k = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + secret), Encoding.UTF8.GetBytes(date));
        k = HMACSHA256.HashData(k, Encoding.UTF8.GetBytes(region));
        k = HMACSHA256.HashData(k, Encoding.UTF8.GetBytes(service));
        return HMACSHA256.HashData(k, "aws4_request"u8.ToArray());
    }

    private static string CanonicalPath(string path)
    {
        if (path.Length == 0)
        {
            return "/";
        }
        // Each segment URI-encoded once (the path arrives decoded).
        return string.Join('/', path.Split('/').Select(s => Encode(Uri.UnescapeDataString(s))));
    }

    private static string CanonicalQuery(string query)
    {
        var q = query.StartsWith('?') ? query[1..] : query;
        if (q.Length == 0)
        {
            return "";
        }
        var pairs = q.Split('&').Select(p =>
        {
            var eq = p.IndexOf('=');
            var k = Uri.UnescapeDataString((eq < 0 ? p : p[..eq]).Replace('+', ' '));
            var v = eq < 0 ? "" : Uri.UnescapeDataString(p[(eq + 1)..].Replace('+', ' '));
            return (K: Encode(k), V: Encode(v));
        });
        return string.Join('&', pairs.OrderBy(p => p.K, StringComparer.Ordinal).ThenBy(p => p.V, StringComparer.Ordinal).Select(p => $"{p.K}={p.V}"));
    }

    /// <summary>RFC 3986 encoding of everything but the unreserved characters, upper-case hex, as SigV4 specifies.</summary>
    private static string Encode(string s)
    {
        var sb = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(s))
        {
            var c = (char)b;
            if (c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_' or '.' or '~')
            {
                sb.Append(c);
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }
        return sb.ToString();
    }

    private static string Trim(string value)
    {
        var sb = new StringBuilder(value.Length);
        var space = false;
        foreach (var c in value.Trim())
        {
            if (c == ' ')
            {
                if (!space)
                {
                    sb.Append(c);
                }
                space = true;
            }
            else
            {
                sb.Append(c);
                space = false;
            }
        }
        return sb.ToString();
    }

    private static string? Header(SignedRequest request, string name)
    {
        foreach (var h in request.Headers)
        {
            if (h.Key.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return h.Value;
            }
        }
        return null;
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    private static SignatureCheck Refuse(EcsError error) => new(null, null, null, error);
}
