namespace Scheduler.Abstractions;

/// <summary>Grain keys. Every key starts with the run id so that several runs share a cluster without touching each other.</summary>
public static class Keys
{
    public static string Account(string run, string account) => $"{run}/{account}";
    public static string Cluster(string run, string account, string cluster) => $"{run}/{account}/{cluster}";
    public static string Child(string clusterKey, string name) => $"{clusterKey}/{name}";
    public static string JobQueue(string run, string account, string cluster, string queue) => $"{run}/{account}/{cluster}/queue/{queue}";
    public static string Bucket(string run, string account, string bucket) => $"{run}/{account}/{bucket}";
}
