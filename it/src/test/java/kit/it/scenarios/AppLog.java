package kit.it.scenarios;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** An app process's log read from a mark: what one request left behind in it. */
final class AppLog {

    private final Path file;
    private long mark;

    AppLog(Path file) throws IOException {
        this.file = file;
        mark();
    }

    /** Forgets what is in the log so far. */
    void mark() throws IOException {
        mark = Files.size(file);
    }

    /**
     * The lines written since the mark, read once the log has had no new byte
     * for {@code quiet} (and at most {@code bound} from now), so that a stack
     * trace that follows a line is read with it.
     */
    List<String> linesSinceMark(Duration quiet, Duration bound) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + bound.toNanos();
        long size = Files.size(file);
        long quietSince = System.nanoTime();
        while (System.nanoTime() < deadline) {
            Thread.sleep(50);
            long now = Files.size(file);
            if (now != size) {
                size = now;
                quietSince = System.nanoTime();
            } else if (size > mark && System.nanoTime() - quietSince >= quiet.toNanos()) {
                break;
            }
        }
        byte[] bytes;
        try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
            in.seek(mark);
            bytes = new byte[(int) (in.length() - mark)];
            in.readFully(bytes);
        }
        String text = new String(bytes, StandardCharsets.UTF_8);
        return text.isEmpty() ? List.of() : text.lines().toList();
    }
}
