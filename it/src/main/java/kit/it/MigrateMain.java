package kit.it;

import kit.client.DatabaseUrl;
import kit.client.Migrations;
import kit.example.ExampleMigrations;

/**
 * Applies the kit's migrations in a process of its own, so that a test can
 * kill it half-way: {@code MigrateMain <jdbc url> <target> <role prefix>}.
 */
public final class MigrateMain {

    private MigrateMain() {
    }

    public static void main(String[] args) {
        new Migrations(DatabaseUrl.parse(args[0]), ExampleMigrations.LOCATION, args[2]).migrateTo(args[1]);
        System.out.println("migrated to " + args[1]);
    }
}
