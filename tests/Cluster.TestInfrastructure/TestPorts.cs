using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Cluster.TestInfrastructure;

/// <summary>Free loopback TCP ports for test silos.</summary>
public static class TestPorts
{
    /// <summary>
    /// A started listener on 127.0.0.1 (a port the OS picks) that accepts nothing by itself: a test can see whether
    /// anything connected (<see cref="TcpListener.Pending"/>), or accept the connection.
    /// </summary>
    public static TcpListener Listening(out int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        port = ((IPEndPoint)listener.LocalEndpoint).Port;
        return listener;
    }

    // Ports already handed out by this process. The listener below is closed before its port is used, so the OS may give
    // the same port to the next caller: a host asking for its silo and gateway ports one after the other would then get
    // one port twice (about once in 14,000 asks on Linux; a full test run starts well over a hundred hosts).
    private static readonly ConcurrentDictionary<int, byte> HandedOut = new();

    /// <summary>A loopback port nothing listens on now, never handed out before by this process.</summary>
    public static int Free()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            if (HandedOut.TryAdd(port, 0))
            {
                return port;
            }
        }
    }
}
