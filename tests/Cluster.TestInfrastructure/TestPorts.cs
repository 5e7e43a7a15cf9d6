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

    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
