package dev.modelgraph;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.harness.Neo4j;
import org.neo4j.harness.Neo4jBuilders;

/**
 * Throwaway in-process Neo4j Community server for development and tests.
 *
 * <p>Usage: {@code Neo4jDev [PORT] [--exit-on-stdin-close]}
 *
 * <ul>
 *   <li>Bolt listens on 127.0.0.1:PORT (default 7687), authentication is disabled, the HTTP server
 *       is off.</li>
 *   <li>Data lives in a fresh temporary directory that is deleted on shutdown.</li>
 *   <li>Exactly one line is written to stdout: {@code READY bolt://127.0.0.1:PORT}, once the port
 *       accepts connections. Everything else (including Neo4j's own logging) goes to stderr.</li>
 *   <li>Runs until SIGTERM/SIGINT (a shutdown hook closes the server cleanly) or, with
 *       {@code --exit-on-stdin-close}, until stdin reaches EOF.</li>
 * </ul>
 */
public final class Neo4jDev {
    private static final String HOST = "127.0.0.1";
    private static final int DEFAULT_PORT = 7687;

    private Neo4jDev() {}

    public static void main(String[] args) throws Exception {
        // Keep stdout for the READY line only: anything else that writes to
        // System.out (Neo4j console logging, libraries) ends up on stderr.
        PrintStream ready = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        System.setOut(System.err);

        int port = DEFAULT_PORT;
        boolean exitOnStdinClose = false;
        for (String a : args) {
            if (a.equals("--exit-on-stdin-close")) {
                exitOnStdinClose = true;
            } else if (a.equals("-h") || a.equals("--help")) {
                System.err.println("usage: Neo4jDev [PORT] [--exit-on-stdin-close]");
                System.exit(0);
            } else {
                try {
                    port = Integer.parseInt(a);
                } catch (NumberFormatException e) {
                    port = -1;
                }
                if (port < 1 || port > 65535) {
                    System.err.println("neo4j-dev: invalid port or flag: " + a);
                    System.err.println("usage: Neo4jDev [PORT] [--exit-on-stdin-close]");
                    System.exit(2);
                }
            }
        }

        Path workDir = Files.createTempDirectory("modelgraph-neo4j-dev-");
        System.err.println("neo4j-dev: working directory " + workDir);

        Neo4j neo4j;
        try {
            neo4j = Neo4jBuilders.newInProcessBuilder(workDir)
                    .withDisabledServer()
                    .withConfig(BoltConnector.enabled, true)
                    .withConfig(BoltConnector.listen_address, new SocketAddress(HOST, port))
                    .withConfig(BoltConnector.advertised_address, new SocketAddress(HOST, port))
                    // Small footprint suitable for tests; -Dneo4j.dev.pagecache=<MiB> for
                    // benchmarks (neo4j-dev.sh: NEO4J_DEV_PAGECACHE_MB).
                    .withConfig(GraphDatabaseSettings.pagecache_memory,
                            Long.getLong("neo4j.dev.pagecache", 64L) * 1024 * 1024)
                    .withConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                    .withConfig(GraphDatabaseSettings.logical_log_rotation_threshold, 16L * 1024 * 1024)
                    // A throwaway server keeps no transaction log history: without
                    // this, loading 1M nodes (make bench-large) left 31 GB of logs
                    // and filled the disk. Logs are pruned at checkpoints, so
                    // those come every minute or 256 MiB of log.
                    .withConfig(GraphDatabaseSettings.keep_logical_logs, "false")
                    .withConfig(GraphDatabaseSettings.check_point_interval_time, java.time.Duration.ofMinutes(1))
                    .withConfig(GraphDatabaseSettings.check_point_interval_volume, 256L * 1024 * 1024)
                    .withConfig(GraphDatabaseSettings.udc_enabled, false)
                    .build();
        } catch (Throwable t) {
            System.err.println("neo4j-dev: failed to start Neo4j on " + HOST + ":" + port + ": " + t);
            t.printStackTrace(System.err);
            deleteRecursively(workDir);
            System.exit(1);
            return;
        }

        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean closed = new AtomicBoolean(false);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (closed.compareAndSet(false, true)) {
                System.err.println("neo4j-dev: shutting down");
                try {
                    neo4j.close();
                } catch (Throwable t) {
                    System.err.println("neo4j-dev: error while closing Neo4j: " + t);
                }
                deleteRecursively(workDir);
                System.err.println("neo4j-dev: stopped");
            }
            stopped.countDown();
        }, "neo4j-dev-shutdown"));

        if (!waitForPort(HOST, port, 60_000)) {
            System.err.println("neo4j-dev: Neo4j started but " + HOST + ":" + port + " does not accept connections");
            System.exit(1);
        }

        System.err.println("neo4j-dev: Neo4j " + neo4jVersion() + " ready, bolt " + neo4j.boltURI());
        ready.println("READY bolt://" + HOST + ":" + port);
        ready.flush();

        if (exitOnStdinClose) {
            Thread watcher = new Thread(() -> {
                try (InputStream in = System.in) {
                    byte[] buf = new byte[256];
                    while (in.read(buf) >= 0) {
                        // discard
                    }
                } catch (IOException ignored) {
                    // treat as closed
                }
                System.err.println("neo4j-dev: stdin closed");
                System.exit(0);
            }, "neo4j-dev-stdin");
            watcher.setDaemon(true);
            watcher.start();
        }

        stopped.await();
    }

    private static boolean waitForPort(String host, int port, long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (System.currentTimeMillis() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, port), 1000);
                return true;
            } catch (IOException e) {
                Thread.sleep(200);
            }
        }
        return false;
    }

    private static String neo4jVersion() {
        Package p = Neo4jBuilders.class.getPackage();
        String v = p == null ? null : p.getImplementationVersion();
        return v == null ? "(unknown version)" : v;
    }

    private static void deleteRecursively(Path root) {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                    Files.deleteIfExists(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            System.err.println("neo4j-dev: could not delete " + root + ": " + e);
        }
    }
}
