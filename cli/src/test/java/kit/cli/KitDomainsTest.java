package kit.cli;

import kit.client.Jdbc;
import kit.client.Migrations;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;

import static kit.cli.KitCommandTest.kit;
import static kit.cli.KitCommandTest.sql;
import static kit.cli.KitOutputFormatsTest.json;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The kit command on a database of two domains: the example in public and the shop (kit-tests'
 * shop-domain) in schema shop. Status shows the schema versions of both, verify covers both,
 * and a command names a table by its kit name (shop.order_book), independently of the other domain.
 */
class KitDomainsTest {

    static TestDatabase bothDomains() {
        TestDatabase db = TestDatabases.migrated();
        new Migrations(db.url(), "filesystem:../kit-tests/src/test/resources/shop-domain", TestDatabases.runRole("shop_v"))
                .inDomain("shop").migrateTo("1");
        return db;
    }

    @Test
    void statusShowsBothDomainsAndCommandsTakeKitNames() throws Exception {
        TestDatabase db = bothDomains();
        sql(db, "INSERT INTO shop.order_placed (customer, total_cents) VALUES ('ann', 100)");

        KitCommandTest.Result status = kit(db, "status");
        assertThat(status.status()).as(status.out() + status.err()).isZero();
        assertThat(status.out()).containsPattern("(?m)^ +public +3 +live +messages_3, users_2")
                .containsPattern("(?m)^ +shop +0 +live +shop.orders")
                .containsPattern("(?m)^ +shop +1 +live +shop.order_book")
                .containsPattern("(?m)^ +shop.order_placed +write +1")
                .as("a projection outside public is named with its schema").contains("shop.project_order_placed_into_order_book");

        JsonNode versions = json(kit(db, "status", "--format", "json")).at("/schema_versions");
        List<String> seen = new ArrayList<>();
        versions.forEach(v -> seen.add(v.at("/domain").asString() + " " + v.at("/version").asInt() + " " + v.at("/state").asString()));
        assertThat(seen).containsExactly("public 0 retired", "public 1 retired", "public 2 live", "public 3 live", "public 4 live",
                "shop 0 live", "shop 1 live");
        assertThat(kit(db, "status", "--format", "mermaid").out()).contains("shop version 1").contains("shop.order_book");

        KitCommandTest.Result verify = kit(db, "verify");
        assertThat(verify.status()).as(verify.out() + verify.err()).isZero();
        assertThat(verify.out()).contains("shop.order_book").contains("users_2");
        assertThat(kit(db, "rebuild", "shop.order_book").status()).isZero();
        KitCommandTest.Result plan = kit(db, "retire", "shop.orders", "--dry-run");
        assertThat(plan.status()).as(plan.out() + plan.err()).isZero();
        assertThat(plan.out()).contains("shop.orders").contains("retire schema versions of domain shop: 0").doesNotContain("users_");
        assertThat(json(kit(db, "retire", "shop.orders", "--dry-run", "--format", "json")).at("/domain").asString()).isEqualTo("shop");
    }

    /**
     * A write table partitioned by seq (kit-tests' partitioned-domain, ten seqs a partition): status
     * shows its partitions, says when the default partition holds facts and which seqs a detached
     * partition leaves out, in text and JSON.
     */
    @Test
    void statusShowsHowAPartitionedWriteTableStands() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        new Migrations(db.url(), "filesystem:../kit-tests/src/test/resources/partitioned-domain", TestDatabases.runRole("parts_v"))
                .inDomain("parts").migrateTo("0");
        sql(db, "INSERT INTO parts.user_registered_0 (email, password_hash) SELECT 'a' || g || '@example.com', 'h' FROM generate_series(1, 45) g");

        KitCommandTest.Result status = kit(db, "status");
        assertThat(status.status()).as(status.out() + status.err()).isZero();
        assertThat(status.out()).contains("Partitioned write tables")
                .containsPattern("(?m)^ +parts.user_registered_0 +10 +\\d+ +\\d+ +HOLDS FACTS: run SELECT kit.add_partitions\\(\\)");
        JsonNode partitions = partitionsOf(json(kit(db, "status", "--format", "json")), "parts.user_registered_0");
        assertThat(partitions.get("partition_size").asLong()).isEqualTo(10);
        assertThat(partitions.get("default_partition").asString()).isEqualTo("holds facts");
        assertThat(partitions.get("missing_seqs").isNull()).isTrue();

        sql(db, "SELECT kit.add_partitions()");
        String oldest;
        try (Connection c = db.connect()) {
            oldest = Jdbc.strings(c, "SELECT tableoid::regclass::text FROM parts.user_registered_0 ORDER BY seq LIMIT 1").get(0);
        }
        sql(db, "ALTER TABLE parts.user_registered_0 DETACH PARTITION " + oldest);
        KitCommandTest.Result refused = kit(db, "verify");
        assertThat(refused.status()).as("a table the kit may not verify is a finding: " + refused.err()).isEqualTo(1);
        assertThat(refused.out()).contains("REFUSED parts.users_0 was not verified: Cannot verify parts.users_0", "kit.attach_partition(")
                .contains("ok    users_2 equals a rebuild").as("the others are verified still");
        KitCommandTest.Result detached = kit(db, "status");
        assertThat(detached.status()).as("detaching is the operator's to do").isZero();
        assertThat(detached.out()).containsPattern("(?m)^ +parts.user_registered_0 +10 +\\d+ +\\d+ +empty +\\d+ to \\d+ \\(detached: backfill, rebuild");
        partitions = partitionsOf(json(kit(db, "status", "--format", "json")), "parts.user_registered_0");
        assertThat(partitions.get("default_partition").asString()).isEqualTo("empty");
        assertThat(partitions.get("missing_seqs").asString()).matches("\\d+ to \\d+");

        sql(db, "ALTER TABLE parts.user_registered_0 DETACH PARTITION parts.user_registered_0_default");
        KitCommandTest.Result noDefault = kit(db, "status");
        assertThat(noDefault.status()).as("a missing default partition is drift").isEqualTo(1);
        assertThat(noDefault.out()).containsPattern("(?m)^ +parts.user_registered_0 +10 +\\d+ +\\d+ +MISSING: kit repair ");
        assertThat(partitionsOf(json(kit(db, "status", "--format", "json")), "parts.user_registered_0").get("default_partition").asString())
                .isEqualTo("missing");
    }

    private static JsonNode partitionsOf(JsonNode status, String writeTable) {
        return status.get("write_tables").valueStream().filter(w -> w.get("table").asString().equals(writeTable))
                .findFirst().orElseThrow().get("partitions");
    }

    /** A command takes a table as the kit's SQL does, and names the table it may have meant. */
    @Test
    void commandsReadNamesAsTheKitDoesAndSuggestADomainsTable() throws Exception {
        TestDatabase db = bothDomains();
        assertThat(kit(db, "verify", "public.users_2").status()).isZero();
        assertThat(kit(db, "verify", "\"shop\".\"order_book\"").status()).isZero();
        KitCommandTest.Result unqualified = kit(db, "verify", "order_book");
        assertThat(unqualified.status()).isEqualTo(2);
        assertThat(unqualified.err()).contains("order_book is not a read version of this database")
                .contains("did you mean shop.order_book?");
    }
}
