using System.Net;
using System.Net.Sockets;

namespace Scheduler.TestSupport;

/// <summary>Ports for servers a test starts: on 127.0.0.1 only, free when asked for.</summary>
public static class TestPorts
{
    /// <summary>A TCP port on 127.0.0.1 that nothing listened on a moment ago (the system picks it).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
