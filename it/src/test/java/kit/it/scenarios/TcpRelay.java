package kit.it.scenarios;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay on a loopback port to a PostgreSQL server, so that a test can
 * take the database away from one app without stopping the server the other
 * tests share: {@link #close} drops every relayed connection and stops
 * listening, and the app then meets what a dead database gives, a broken
 * connection and a refused one.
 */
final class TcpRelay implements AutoCloseable {

    private final ServerSocket listener;
    private final String targetHost;
    private final int targetPort;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    TcpRelay(String targetHost, int targetPort) throws IOException {
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        Thread.ofVirtual().name("relay-accept").start(this::accept);
    }

    /** A relay to {@code hostAndPort} as a JDBC URL names it ({@code host} or {@code host:port}). */
    static TcpRelay to(String hostAndPort) throws IOException {
        int colon = hostAndPort.lastIndexOf(':');
        return colon < 0 ? new TcpRelay(hostAndPort, 5432)
                : new TcpRelay(hostAndPort.substring(0, colon), Integer.parseInt(hostAndPort.substring(colon + 1)));
    }

    String hostAndPort() {
        return "127.0.0.1:" + listener.getLocalPort();
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                Socket server = new Socket(targetHost, targetPort);
                sockets.add(client);
                sockets.add(server);
                Thread.ofVirtual().start(() -> pump(client, server));
                Thread.ofVirtual().start(() -> pump(server, client));
            } catch (IOException e) {
                // Closed, or the target refused: either way this connection is over.
            }
        }
    }

    private static void pump(Socket from, Socket to) {
        byte[] buffer = new byte[16 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // One side went away.
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // Already gone.
        }
    }

    /** Stops listening and drops every relayed connection: from here on the database is unreachable. */
    @Override
    public void close() throws IOException {
        listener.close();
        sockets.forEach(TcpRelay::closeQuietly);
    }
}
