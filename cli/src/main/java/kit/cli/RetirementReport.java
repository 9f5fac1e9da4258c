package kit.cli;

import java.util.List;

/**
 * What {@code kit retire} would do or did, and what blocks it: the documented shape of
 * {@code kit retire --format json} ({@code --dry-run} or not), from {@code kit.retirement_plan}.
 *
 * @param schemaVersions the schema versions it retires (those that read it and are not retired yet)
 * @param clients        connected sessions of those versions: they block it
 * @param registeredApps app servers of those versions registered on the primary: they block it
 * @param referrers      live read versions that reference it: they block it
 * @param dependents     objects that depend on its table (views, rules, foreign keys): they block it
 * @param exitStatus     a dry run that finds blockers exits 1
 */
record RetirementReport(int formatVersion, String command, String database, String readTable, String domain, boolean dryRun,
                        List<Integer> schemaVersions, List<StatusReport.Feed> feeds, List<ConnectedClients.Client> clients,
                        List<ConnectedClients.App> registeredApps, List<String> referrers, List<String> dependents, boolean wouldRetire, boolean retired, int exitStatus) {
}
