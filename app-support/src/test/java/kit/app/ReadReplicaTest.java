package kit.app;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** WAL positions as PostgreSQL writes them (pg_lsn's text), read and written back, and a client's bad one refused. */
class ReadReplicaTest {

    @Test
    void aWalPositionReadsAsTheUnsigned64BitNumberItIs() {
        assertThat(ReadReplica.parse("0/0")).isZero();
        assertThat(ReadReplica.parse("16/B374D848")).isEqualTo(0x16_B374D848L);
        assertThat(ReadReplica.parse("FFFFFFFF/FFFFFFFF")).isEqualTo(-1L);
        assertThat(Long.compareUnsigned(ReadReplica.parse("FFFFFFFF/0"), ReadReplica.parse("1/0"))).as("compared unsigned").isPositive();
        assertThat(ReadReplica.later(ReadReplica.parse("1/0"), ReadReplica.parse("80000000/0"))).as("the later, unsigned")
                .isEqualTo(ReadReplica.parse("80000000/0"));
        assertThat(ReadReplica.later("80000000/0", "1/0")).as("as text, as a client keeps it").isEqualTo("80000000/0");
        assertThat(ReadReplica.later(null, "0/16B3748")).isEqualTo("0/16B3748");
        assertThat(ReadReplica.later("0/16B3748", null)).isEqualTo("0/16B3748");
        for (String lsn : new String[] {"0/3000148", "16/B374D848", "FFFFFFFF/FFFFFFFF"}) {
            assertThat(ReadReplica.format(ReadReplica.parse(lsn))).isEqualTo(lsn);
        }
    }

    @Test
    void aHeaderThatIsNoWalPositionIsTheClientsError() {
        for (String bad : new String[] {"yesterday", "/1", "1/", "123456789/0", "0/123456789", "0/-1", "G/0"}) {
            ApiException e = catchThrowableOfType(ApiException.class, () -> ReadReplica.parse(bad));
            assertThat(e).as(bad).isNotNull();
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.code()).isEqualTo("invalid_header");
        }
    }

    @Test
    void withoutAReplicaNothingWaits() {
        assertThat(ReadReplica.NONE.enabled()).isFalse();
        assertThat(ReadReplica.NONE.written()).isNull();
        ReadReplica.NONE.awaitWritesSeen("0/0");
        ReadReplica.NONE.awaitPrimary();
    }
}
