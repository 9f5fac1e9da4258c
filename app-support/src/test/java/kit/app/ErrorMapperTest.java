package kit.app;

import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;

import static org.assertj.core.api.Assertions.assertThat;

/** A write that lost a race (serialization_failure, which the kit raises for an overtaken fact) is a 409 the client may send again. */
class ErrorMapperTest {

    @Test
    void aWriteThatLostARaceIsAConflictToSendAgain() {
        var raced = new PSQLException("ERROR: A later fact about user 7 was applied first (Fact: user_deleted_4 seq 12, Column: user_id,"
                + " Read table: users_4, Applied first: fact seq 13)", PSQLState.SERIALIZATION_FAILURE);
        ApiException answer = new ErrorMapper().map(new RuntimeException("insert failed", raced));
        assertThat(answer.status()).isEqualTo(409);
        assertThat(answer.code()).isEqualTo("write_conflict");
        assertThat(answer.getMessage()).startsWith("A later fact about user 7 was applied first");
    }
}
