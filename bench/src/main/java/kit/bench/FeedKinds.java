package kit.bench;

import kit.client.DatabaseUrl;
import kit.client.Jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import static kit.client.Jdbc.exec;

/**
 * 13: each feed kind against the same rows written by the application itself in one statement
 * (a data-modifying CTE that inserts the fact and changes its read row, no triggers): computed
 * columns with a filter, an accumulating feed, an upsert, a delete and a sql feed. A club's
 * members join, pay, rename themselves, tip and leave; one write table per kind, so each figure
 * measures one feed. Hand and kit alternate (hand, kit, kit, hand) so that a drift of the machine
 * cancels out.
 */
final class FeedKinds {

    static final String GROUP = "13. feed kinds vs the same rows by hand";
    static final double TARGET = 0.85;

    private final DatabaseUrl db;
    private final double seconds;
    private final Consumer<Figure> out;
    private final String conditions;
    private final int members;

    FeedKinds(DatabaseUrl db, double seconds, Consumer<Figure> out, String conditions) {
        this.db = db;
        this.seconds = seconds;
        this.out = out;
        this.conditions = conditions;
        // Enough members that the deletes of both sides never run out: a few thousand a second each.
        this.members = (int) Math.max(20_000, seconds * 20_000);
    }

    private record Kind(String name, String kitSql, String handSql, Binder binder) {
    }

    @FunctionalInterface
    private interface Binder {
        void bind(PreparedStatement s, long n, boolean kit) throws SQLException;
    }

    void run() throws Exception {
        declare();
        AtomicLong kitLeaver = new AtomicLong();
        AtomicLong handLeaver = new AtomicLong();
        Binder randomMember = (s, n, kit) -> {
            s.setLong(1, 1 + ThreadLocalRandom.current().nextInt(members));
            s.setLong(2, 1 + n % 7);
        };
        List<Kind> kinds = List.of(
                new Kind("insert, computed columns and a filter",
                        "INSERT INTO member_joined_9 (email) VALUES (?)",
                        """
                        WITH f AS (INSERT INTO h_joined (email) VALUES (?) RETURNING id, email, seq)
                        INSERT INTO h_members (id, email, name, last_fact_seq, first_fact_seq)
                        SELECT f.id, lower(f.email), split_part(f.email, '@', 1), f.seq, f.seq FROM f WHERE f.email LIKE '%@%'""",
                        (s, n, kit) -> s.setString(1, "New" + ThreadLocalRandom.current().nextLong() + "@Bench.example")),
                new Kind("accumulate",
                        "INSERT INTO member_paid_9 (member_id, amount) VALUES (?, ?)",
                        """
                        WITH f AS (INSERT INTO h_paid (member_id, amount) VALUES (?, ?) RETURNING member_id, amount, seq)
                        UPDATE h_members r SET balance = r.balance + f.amount, last_fact_seq = greatest(r.last_fact_seq, f.seq)
                          FROM f WHERE r.id = f.member_id""",
                        randomMember),
                new Kind("upsert",
                        "INSERT INTO member_named_9 (member_id, nickname) VALUES (?, 'n' || ?)",
                        """
                        WITH f AS (INSERT INTO h_named (member_id, nickname) VALUES (?, 'n' || ?) RETURNING member_id, nickname, seq)
                        INSERT INTO h_nicknames AS r (id, nickname, last_fact_seq, first_fact_seq)
                        SELECT f.member_id, f.nickname, f.seq, f.seq FROM f
                        ON CONFLICT (id) DO UPDATE SET nickname = excluded.nickname, last_fact_seq = excluded.last_fact_seq
                         WHERE r.last_fact_seq < excluded.last_fact_seq""",
                        randomMember),
                new Kind("sql (a running total)",
                        "INSERT INTO member_tipped_9 (member_id, amount) VALUES (?, ?)",
                        """
                        WITH f AS (INSERT INTO h_tipped (member_id, amount) VALUES (?, ?) RETURNING member_id, amount, seq)
                        INSERT INTO h_tips AS r (id, total, last_fact_seq, first_fact_seq)
                        SELECT f.member_id, f.amount, f.seq, f.seq FROM f
                        ON CONFLICT (id) DO UPDATE SET total = r.total + excluded.total, last_fact_seq = excluded.last_fact_seq""",
                        randomMember),
                new Kind("delete",
                        "INSERT INTO member_left_9 (member_id) VALUES (?)",
                        """
                        WITH f AS (INSERT INTO h_left (member_id) VALUES (?) RETURNING member_id, seq)
                        DELETE FROM h_members r USING f WHERE r.id = f.member_id""",
                        (s, n, kit) -> s.setLong(1, (kit ? kitLeaver : handLeaver).incrementAndGet())));
        for (Kind kind : kinds) {
            Load.Operation kit = statement(kind.kitSql(), kind.binder(), true);
            Load.Operation hand = statement(kind.handSql(), kind.binder(), false);
            double below = Load.run(db, 1, seconds, hand).factsPerSecond();
            double above = Load.run(db, 1, seconds, kit).factsPerSecond() + Load.run(db, 1, seconds, kit).factsPerSecond();
            below += Load.run(db, 1, seconds, hand).factsPerSecond();
            out.accept(new Figure(GROUP, kind.name() + " / app, one statement (CTE)", conditions, above / 2, below / 2, "facts/s", TARGET, true));
        }
    }

    private static Load.Operation statement(String sql, Binder binder, boolean kit) {
        return (c, client, n) -> {
            try (PreparedStatement s = c.prepareStatement(sql)) {
                binder.bind(s, n, kit);
                s.executeUpdate();
            }
            return 1;
        };
    }

    /** The club under the kit (live read tables, one write table per feed kind) and the same tables without it. */
    private void declare() throws SQLException {
        try (Connection c = Jdbc.connect(db)) {
            exec(c, """
                    CREATE TABLE member_joined_9 (id bigint NOT NULL, email text NOT NULL);
                    SELECT kit.create_write_table('member_joined_9', 'member9', schema_version => 2);
                    CREATE TABLE member_paid_9 (id bigint NOT NULL, member_id bigint NOT NULL, amount bigint NOT NULL);
                    SELECT kit.create_write_table('member_paid_9', 'payment9', schema_version => 2);
                    CREATE TABLE member_named_9 (id bigint NOT NULL, member_id bigint NOT NULL, nickname text NOT NULL);
                    SELECT kit.create_write_table('member_named_9', 'nickname9', schema_version => 2);
                    CREATE TABLE member_tipped_9 (id bigint NOT NULL, member_id bigint NOT NULL, amount bigint NOT NULL);
                    SELECT kit.create_write_table('member_tipped_9', 'tip9', schema_version => 2);
                    CREATE TABLE member_left_9 (id bigint NOT NULL, member_id bigint NOT NULL);
                    SELECT kit.create_write_table('member_left_9', 'leave9', schema_version => 2);
                    CREATE TABLE members_9 (id bigint PRIMARY KEY, email text NOT NULL, name text NOT NULL, balance bigint NOT NULL DEFAULT 0);
                    SELECT kit.create_read_version('members_9', 'member');
                    SELECT kit.add_feed('member_joined_9', 'members_9', filter => 'f.email LIKE ''%@%''',
                                        columns => '{"email": "lower(f.email)", "name": "split_part(f.email, ''@'', 1)"}');
                    SELECT kit.add_feed('member_paid_9', 'members_9', key_column => 'member_id', kind => 'accumulate',
                                        columns => '{"balance": "f.amount"}');
                    SELECT kit.add_feed('member_left_9', 'members_9', key_column => 'member_id', kind => 'delete');
                    CREATE TABLE nicknames_9 (id bigint PRIMARY KEY, nickname text NOT NULL);
                    SELECT kit.create_read_version('nicknames_9', 'nickname');
                    SELECT kit.add_feed('member_named_9', 'nicknames_9', key_column => 'member_id', kind => 'upsert');
                    CREATE TABLE tips_9 (id bigint PRIMARY KEY, total bigint NOT NULL);
                    SELECT kit.create_read_version('tips_9', 'tip');
                    SELECT kit.add_feed('member_tipped_9', 'tips_9', kind => 'sql', statement => $s$
                        INSERT INTO {{target}} AS r (id, total, last_fact_seq, first_fact_seq)
                        SELECT f.member_id, sum(f.amount), max(f.seq), min(f.seq) FROM {{facts}} AS f GROUP BY f.member_id
                        ON CONFLICT (id) DO UPDATE SET total = r.total + excluded.total, last_fact_seq = excluded.last_fact_seq$s$);
                    CALL kit.backfill();
                    """);
            exec(c, "INSERT INTO member_joined_9 (id, email) SELECT g, 'M' || g || '@Bench.example' FROM generate_series(1, ?) g", members);
            exec(c, """
                    CREATE SEQUENCE h_id START 2000000000;
                    CREATE TABLE h_joined (id bigint NOT NULL DEFAULT nextval('h_id'), email text NOT NULL, seq bigserial PRIMARY KEY,
                        recorded_at timestamptz NOT NULL DEFAULT now());
                    CREATE TABLE h_paid (id bigint NOT NULL DEFAULT nextval('h_id'), member_id bigint NOT NULL, amount bigint NOT NULL,
                        seq bigserial PRIMARY KEY, recorded_at timestamptz NOT NULL DEFAULT now());
                    CREATE TABLE h_named (id bigint NOT NULL DEFAULT nextval('h_id'), member_id bigint NOT NULL, nickname text NOT NULL,
                        seq bigserial PRIMARY KEY, recorded_at timestamptz NOT NULL DEFAULT now());
                    CREATE TABLE h_tipped (id bigint NOT NULL DEFAULT nextval('h_id'), member_id bigint NOT NULL, amount bigint NOT NULL,
                        seq bigserial PRIMARY KEY, recorded_at timestamptz NOT NULL DEFAULT now());
                    CREATE TABLE h_left (id bigint NOT NULL DEFAULT nextval('h_id'), member_id bigint NOT NULL, seq bigserial PRIMARY KEY,
                        recorded_at timestamptz NOT NULL DEFAULT now());
                    CREATE TABLE h_members (LIKE members_9 INCLUDING ALL);
                    CREATE TABLE h_nicknames (LIKE nicknames_9 INCLUDING ALL);
                    CREATE TABLE h_tips (LIKE tips_9 INCLUDING ALL);
                    INSERT INTO h_members SELECT * FROM members_9;
                    """);
        }
    }
}
