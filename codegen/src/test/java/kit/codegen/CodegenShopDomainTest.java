package kit.codegen;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Codegen on a domain in its own schema (README, "A schema is a domain"): the shop of kit-tests,
 * migrated into schema shop as Flyway's defaultSchema, with free table names and a mixed-case
 * write table. Version 1's code holds the newest table of each fact, named for the fact, and its
 * read table, all of schema shop; a domain name that is no plain schema name is refused first.
 */
class CodegenShopDomainTest {

    static final Path SHOP = Path.of("../kit-tests/src/test/resources/shop-domain").toAbsolutePath().normalize();

    @Test
    void generatesTheShopsVersionFromItsSchema(@TempDir Path out) throws Exception {
        SchemaCodegen.main(new String[]{"1", out.toString(), "filesystem:" + SHOP, "com.example.shop.v1", "shop"});

        Path tables = out.resolve("com/example/shop/v1/tables");
        // Version 1 writes order_placed (of version 0) and order_shipped as shipment_sent (version 1,
        // newer than "OrderShipped"), and reads order_book: each class named for what it holds.
        assertThat(tables.resolve("OrderPlaced.java")).exists();
        assertThat(tables.resolve("OrderShipped.java")).exists();
        assertThat(tables.resolve("OrderBook.java")).exists();
        assertThat(Files.readString(tables.resolve("OrderShipped.java")))
                .contains("\"shipment_sent\"").contains("CARRIER");
        assertThat(Files.readString(tables.resolve("OrderBook.java"))).contains("Shop.SHOP");
        try (var files = Files.list(tables)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("OrderPlaced.java", "OrderShipped.java", "OrderBook.java", "records");
        }
    }

    @Test
    void aDomainThatIsNoPlainSchemaNameIsRefused() {
        assertThatThrownBy(() -> SchemaCodegen.main(new String[]{"1", "out", "filesystem:" + SHOP, "com.example", "shop.x"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Not a domain (a schema name without quotes or dots): shop.x");
    }
}
