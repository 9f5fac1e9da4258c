package kit.bench;

/**
 * One reported figure: a ratio of two rates measured in the same run (or a
 * plain value when {@code baseline} is NaN), with the conditions beside it and
 * the target it is held to (NaN when none).
 */
record Figure(String group, String name, String conditions, double value, double baseline, String unit,
              double target, boolean higherIsBetter) {

    double ratio() {
        return Double.isNaN(baseline) ? Double.NaN : value / baseline;
    }

    /** met, MISSED by x, or blank when there is no target. */
    String verdict() {
        double measured = Double.isNaN(baseline) ? value : ratio();
        if (Double.isNaN(target) || Double.isNaN(measured)) {
            return "";
        }
        boolean met = higherIsBetter ? measured >= target : measured <= target;
        return met ? "met" : String.format("MISSED by %.2f", Math.abs(measured - target));
    }
}
