package kit.bench;

import kit.console.TextTable;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** The benchmark's figures as a console table, a CSV and an SVG chart of the ratios. */
final class Report {

    private Report() {
    }

    static String table(List<Figure> figures) {
        TextTable table = new TextTable("group", "figure", "conditions", "value", "baseline", "ratio", "target", "verdict");
        for (Figure f : figures) {
            table.row(f.group(), f.name(), f.conditions(), format(f.value()) + " " + f.unit(),
                    Double.isNaN(f.baseline()) ? "" : format(f.baseline()), Double.isNaN(f.ratio()) ? "" : String.format(Locale.ROOT, "%.2f", f.ratio()),
                    Double.isNaN(f.target()) ? "" : (f.higherIsBetter() ? ">= " : "<= ") + format(f.target()), f.verdict());
        }
        return table.render("");
    }

    static void csv(List<Figure> figures, Path file) throws IOException {
        StringBuilder out = new StringBuilder("group,figure,conditions,value,baseline,unit,ratio,target,verdict\n");
        for (Figure f : figures) {
            out.append(String.join(",", quote(f.group()), quote(f.name()), quote(f.conditions()), num(f.value()), num(f.baseline()),
                    quote(f.unit()), num(f.ratio()), num(f.target()), quote(f.verdict()))).append('\n');
        }
        Files.writeString(file, out);
    }

    /** Horizontal bars, one per ratio, with the target as a tick: at a glance, how cost grows with R and with size. */
    static void svg(List<Figure> figures, Path file, String title) throws IOException {
        List<Figure> ratios = figures.stream().filter(f -> !Double.isNaN(f.ratio())).toList();
        int rowHeight = 22;
        int labelWidth = 560;
        int barWidth = 420;
        double max = Math.max(1.5, ratios.stream().mapToDouble(Figure::ratio).max().orElse(1));
        int height = 60 + ratios.size() * rowHeight + 30;
        StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">%n",
                labelWidth + barWidth + 80, height));
        svg.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        svg.append(String.format("<text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">%s</text>%n", escape(title)));
        svg.append(String.format("<text x=\"10\" y=\"40\" fill=\"#555\">ratio measured in one run (bar); target (black tick); 1.0 = as fast as the baseline</text>%n"));
        double one = labelWidth + barWidth / max;
        svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"50\" x2=\"%.1f\" y2=\"%d\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>%n", one, one, height - 20));
        int y = 60;
        for (Figure f : ratios) {
            double w = barWidth * Math.min(f.ratio(), max) / max;
            String colour = f.verdict().startsWith("MISSED") ? "#d9534f" : f.verdict().equals("met") ? "#5cb85c" : "#5b9bd5";
            svg.append(String.format("<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>%n", labelWidth - 8, y + 14,
                    escape(f.group().replaceFirst("^\\d\\. ", "") + ": " + f.name() + " (" + f.conditions().replaceFirst(", synchronous_commit=.*", "") + ")")));
            svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>%n", labelWidth, y + 2, w, rowHeight - 6, colour));
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\">%.2f</text>%n", labelWidth + w + 4, y + 14, f.ratio()));
            if (!Double.isNaN(f.target())) {
                double tx = labelWidth + barWidth * Math.min(f.target(), max) / max;
                svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"black\" stroke-width=\"2\"/>%n", tx, y, tx, y + rowHeight - 2));
            }
            y += rowHeight;
        }
        svg.append("</svg>\n");
        Files.writeString(file, svg);
    }

    private static String format(double value) {
        if (Double.isNaN(value)) {
            return "-";
        }
        return Math.abs(value) >= 100 ? String.format(Locale.ROOT, "%.0f", value) : String.format(Locale.ROOT, "%.2f", value);
    }

    private static String num(double value) {
        return Double.isNaN(value) ? "" : String.format(Locale.ROOT, "%.4f", value);
    }

    private static String quote(String text) {
        return "\"" + text.replace("\"", "\"\"") + "\"";
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
