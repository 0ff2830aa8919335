using System.Diagnostics;
using k8s;
using k8s.Models;

namespace Scheduler.Client.Tests.Distributed;

/// <summary>
/// The manifests as <c>kubectl kustomize</c> renders them, parsed strictly into Kubernetes objects (an unknown or
/// misplaced field fails the parse), and checked for what running the silos needs.
/// </summary>
public sealed class KubernetesManifestTests
{
    private static List<object> Render(string path)
    {
        var start = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("kustomize");
        start.ArgumentList.Add(RepoPaths.Of(path));
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), "kubectl kustomize did not finish");
        Assert.True(process.ExitCode == 0, error.Result);
        return KubernetesYaml.LoadAllFromString(output.Result, strict: true);
    }

    [RequiresToolFact("kubectl", "kubectl.sh")]
    public void The_default_manifests_run_silos_on_Redis_with_the_Orleans_pod_labels_and_a_scenario_job()
    {
        var objects = Render("k8s");
        var silo = objects.OfType<V1Deployment>().Single(d => d.Metadata.Name == "scheduler-silo");
        var pod = silo.Spec.Template;
        Assert.Equal("scheduler", pod.Metadata.Labels["orleans/serviceId"]);
        Assert.Equal("scheduler", pod.Metadata.Labels["orleans/clusterId"]);
        Assert.True(silo.Spec.Replicas >= 2);
        var container = pod.Spec.Containers.Single();
        var env = container.Env.ToDictionary(e => e.Name);
        Assert.Equal("metadata.labels['orleans/serviceId']", env["ORLEANS_SERVICE_ID"].ValueFrom.FieldRef.FieldPath);
        Assert.Equal("metadata.labels['orleans/clusterId']", env["ORLEANS_CLUSTER_ID"].ValueFrom.FieldRef.FieldPath);
        Assert.Equal("status.podIP", env["POD_IP"].ValueFrom.FieldRef.FieldPath);
        Assert.Equal("metadata.name", env["POD_NAME"].ValueFrom.FieldRef.FieldPath);
        Assert.Equal("metadata.namespace", env["POD_NAMESPACE"].ValueFrom.FieldRef.FieldPath);
        Assert.Equal("true", env["SCHEDULER_Silo__Kubernetes"].Value);
        Assert.Equal("redis", env["SCHEDULER_Silo__Store"].Value);
        Assert.Equal("scheduler-redis:6379", env["SCHEDULER_Silo__Connection"].Value);
        Assert.Contains(container.Ports, p => p.ContainerPort == 11111);
        Assert.Contains(container.Ports, p => p.ContainerPort == 30000);

        // The pod watcher's account may watch and delete the namespace's pods.
        Assert.Equal("scheduler-silo", pod.Spec.ServiceAccountName);
        var role = objects.OfType<V1Role>().Single();
        var rule = role.Rules.Single(r => r.Resources.Contains("pods"));
        Assert.Superset(new HashSet<string> { "get", "list", "watch", "delete" }, rule.Verbs.ToHashSet());
        var binding = objects.OfType<V1RoleBinding>().Single();
        Assert.Equal(role.Metadata.Name, binding.RoleRef.Name);
        Assert.Equal("scheduler-silo", binding.Subjects.Single().Name);
        Assert.Contains(objects.OfType<V1ServiceAccount>(), a => a.Metadata.Name == "scheduler-silo");

        var gateway = objects.OfType<V1Service>().Single(s => s.Metadata.Name == "scheduler-gateway");
        Assert.Equal("scheduler", gateway.Spec.Selector["orleans/serviceId"]);
        Assert.Equal(30000, gateway.Spec.Ports.Single().Port);
        Assert.Contains(objects.OfType<V1Deployment>(), d => d.Metadata.Name == "scheduler-redis");
        Assert.Contains(objects.OfType<V1Service>(), s => s.Metadata.Name == "scheduler-redis" && s.Spec.Ports.Single().Port == 6379);

        var job = objects.OfType<V1Job>().Single();
        var args = job.Spec.Template.Spec.Containers.Single().Args.ToList();
        Assert.Equal("simulate", args[0]);
        Assert.Equal("redis=scheduler-redis:6379", args[args.IndexOf("--connect") + 1]);
        Assert.Equal("scheduler", args[args.IndexOf("--cluster-id") + 1]);
        Assert.All(objects.OfType<IMetadata<V1ObjectMeta>>().Where(o => o is not V1Namespace), o => Assert.Equal("scheduler", o.Metadata.NamespaceProperty));
    }

    [RequiresToolFact("kubectl", "kubectl.sh")]
    public void The_Azure_Table_overlay_takes_the_connection_from_a_secret_and_drops_Redis()
    {
        var objects = Render("k8s/overlays/azuretable");
        var secret = objects.OfType<V1Secret>().Single();
        Assert.True(secret.StringData.ContainsKey("connection"));
        var silo = objects.OfType<V1Deployment>().Single();
        Assert.Equal("scheduler-silo", silo.Metadata.Name);
        var env = silo.Spec.Template.Spec.Containers.Single().Env.ToDictionary(e => e.Name);
        Assert.Equal("azuretable", env["SCHEDULER_Silo__Store"].Value);
        Assert.Null(env["SCHEDULER_Silo__Connection"].Value);
        Assert.Equal(secret.Metadata.Name, env["SCHEDULER_Silo__Connection"].ValueFrom.SecretKeyRef.Name);
        Assert.Equal("connection", env["SCHEDULER_Silo__Connection"].ValueFrom.SecretKeyRef.Key);
        Assert.DoesNotContain(objects.OfType<V1Service>(), s => s.Metadata.Name == "scheduler-redis");
        var job = objects.OfType<V1Job>().Single().Spec.Template.Spec.Containers.Single();
        Assert.Contains("--connect \"azuretable=$STORAGE_CONNECTION\"", string.Join(" ", job.Args));
        Assert.Equal(secret.Metadata.Name, job.Env.Single(e => e.Name == "STORAGE_CONNECTION").ValueFrom.SecretKeyRef.Name);
    }
}
