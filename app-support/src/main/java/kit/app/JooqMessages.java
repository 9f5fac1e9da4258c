package kit.app;

import org.jooq.DSLContext;
import org.jooq.Record;
import org.jooq.Table;
import org.jooq.TableField;

import java.util.List;

/**
 * {@link Messages} over one version's generated message tables, described by name as
 * {@link JooqUsers} is: each attribute takes its column in the write table, then in the read table.
 *
 * <pre>{@code
 * JooqMessages.Schema.writes(MESSAGE_SENT).reads(MESSAGES)
 *         .id(MESSAGE_SENT.ID, MESSAGES.ID)
 *         .srcId(MESSAGE_SENT.SRC_ID, MESSAGES.SRC_ID)
 *         .dstId(MESSAGE_SENT.DST_ID, MESSAGES.DST_ID)
 *         .content(MESSAGE_SENT.CONTENT, MESSAGES.CONTENT)
 *         .build()
 * }</pre>
 */
public final class JooqMessages implements Messages {

    /** The write table a version sends messages to, the read table it reads them from, and their columns by name. */
    public static final class Schema {

        private final Table<?> sent;
        private final TableField<?, Long> sentId;
        private final TableField<?, Long> sentSrcId;
        private final TableField<?, Long> sentDstId;
        private final TableField<?, String> sentContent;
        private final Table<?> messages;
        private final TableField<?, Long> id;
        private final TableField<?, Long> srcId;
        private final TableField<?, Long> dstId;
        private final TableField<?, String> content;

        private Schema(Builder b) {
            sent = b.sent;
            messages = b.messages;
            sentId = TableColumns.of(sent, b.sentId, "the message id written");
            id = TableColumns.of(messages, b.id, "the message id read");
            sentSrcId = TableColumns.of(sent, b.sentSrcId, "the sender written");
            srcId = TableColumns.of(messages, b.srcId, "the sender read");
            sentDstId = TableColumns.of(sent, b.sentDstId, "the recipient written");
            dstId = TableColumns.of(messages, b.dstId, "the recipient read");
            sentContent = TableColumns.of(sent, b.sentContent, "the content written");
            content = TableColumns.of(messages, b.content, "the content read");
        }

        /** Starts the description with the write table messages go to. */
        public static Reads writes(Table<?> sent) {
            return messages -> new Builder(sent, messages);
        }

        /** The second step: the read table messages are read from. */
        @FunctionalInterface
        public interface Reads {
            Builder reads(Table<?> messages);
        }

        /** The columns, each by its name: the column in the write table, then the one in the read table. */
        public static final class Builder {
            private final Table<?> sent;
            private final Table<?> messages;
            private TableField<?, Long> sentId;
            private TableField<?, Long> sentSrcId;
            private TableField<?, Long> sentDstId;
            private TableField<?, String> sentContent;
            private TableField<?, Long> id;
            private TableField<?, Long> srcId;
            private TableField<?, Long> dstId;
            private TableField<?, String> content;

            private Builder(Table<?> sent, Table<?> messages) {
                this.sent = sent;
                this.messages = messages;
            }

            public Builder id(TableField<?, Long> written, TableField<?, Long> read) {
                sentId = written;
                id = read;
                return this;
            }

            public Builder srcId(TableField<?, Long> written, TableField<?, Long> read) {
                sentSrcId = written;
                srcId = read;
                return this;
            }

            public Builder dstId(TableField<?, Long> written, TableField<?, Long> read) {
                sentDstId = written;
                dstId = read;
                return this;
            }

            public Builder content(TableField<?, String> written, TableField<?, String> read) {
                sentContent = written;
                content = read;
                return this;
            }

            /** The description, or an exception that names the column missing or in the wrong table. */
            public Schema build() {
                return new Schema(this);
            }
        }
    }

    private final DSLContext db;
    private final Schema s;

    public JooqMessages(DSLContext db, Schema schema) {
        this.db = db;
        this.s = schema;
    }

    @Override
    public Message send(long srcId, long dstId, String content) {
        long id = db.insertInto(s.sent)
                .set(s.sentSrcId, srcId)
                .set(s.sentDstId, dstId)
                .set(s.sentContent, content)
                .returning(s.sentId)
                .fetchSingle(s.sentId);
        return new Message(id, srcId, dstId, content);
    }

    @Override
    public List<Message> involving(long userId) {
        return db.selectFrom(s.messages)
                .where(s.srcId.eq(userId).or(s.dstId.eq(userId)))
                .orderBy(s.id)
                .limit(1000)
                .fetch(this::message);
    }

    private Message message(Record r) {
        return new Message(r.get(s.id), r.get(s.srcId), r.get(s.dstId), r.get(s.content));
    }
}
