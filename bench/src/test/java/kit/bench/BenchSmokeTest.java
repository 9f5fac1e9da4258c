package kit.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The harness works: a very short run produces every group's figures, a CSV
 * and a chart. It asserts that figures were produced, never how fast anything
 * is (the machines are noisy; speed is read from a run's ratios).
 */
class BenchSmokeTest {

    @Test
    void aShortRunProducesEveryFigureACsvAndAChart(@TempDir Path out) throws Exception {
        List<Figure> figures = Bench.run(0.3, List.of(2_000, 5_000), out);
        assertThat(figures.stream().map(Figure::group).distinct()).hasSize(17);
        assertThat(figures).allSatisfy(f -> assertThat(f.value()).as(f.name()).isPositive());
        assertThat(Files.readAllLines(out.resolve("bench-results.csv"))).hasSize(figures.size() + 1);
        assertThat(Files.readString(out.resolve("bench-ratios.svg"))).startsWith("<svg").contains("R=3");
    }

    /** --only 2,8: figure 2's measurement (which gives 1 and 2) and figure 8's, nothing else. */
    @Test
    void onlyTheFiguresAskedForAreMeasured(@TempDir Path out) throws Exception {
        List<Figure> figures = Bench.run(0.1, List.of(2_000), Set.of(2, 8), out);
        assertThat(figures.stream().map(f -> f.group().substring(0, f.group().indexOf('.'))).distinct()).containsExactly("1", "2", "8");
        assertThat(Report.table(figures)).contains("verdict");
    }
}
