package kit.app;

import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.Table;

import java.util.List;

/** {@link Messages} over one version's generated message tables. */
public final class JooqMessages implements Messages {

    /** The write table a version sends messages to, and the read table it reads them from. */
    public record Schema(Table<?> sent, Field<Long> sentId, Field<Long> sentSrcId, Field<Long> sentDstId, Field<String> sentContent,
                         Table<?> messages, Field<Long> id, Field<Long> srcId, Field<Long> dstId, Field<String> content) {
    }

    private final DSLContext db;
    private final Schema s;

    public JooqMessages(DSLContext db, Schema schema) {
        this.db = db;
        this.s = schema;
    }

    @Override
    public Message send(long srcId, long dstId, String content) {
        long id = db.insertInto(s.sent())
                .set(s.sentSrcId(), srcId)
                .set(s.sentDstId(), dstId)
                .set(s.sentContent(), content)
                .returning(s.sentId())
                .fetchSingle(s.sentId());
        return new Message(id, srcId, dstId, content);
    }

    @Override
    public List<Message> involving(long userId) {
        return db.selectFrom(s.messages())
                .where(s.srcId().eq(userId).or(s.dstId().eq(userId)))
                .orderBy(s.id())
                .limit(1000)
                .fetch(this::message);
    }

    private Message message(Record r) {
        return new Message(r.get(s.id()), r.get(s.srcId()), r.get(s.dstId()), r.get(s.content()));
    }
}
