package com.example.helpdesk;

import com.example.helpdesk.db.v1.tables.records.TicketsRecord;
import org.jooq.DSLContext;

import java.util.List;

import static com.example.helpdesk.db.v1.Tables.TICKETS;
import static com.example.helpdesk.db.v1.Tables.TICKET_CLOSED;
import static com.example.helpdesk.db.v1.Tables.TICKET_OPENED;

/**
 * What the help desk's app of schema version 1 does, in the names its migrations give: it writes
 * the facts (the newest write table of each, {@code ticket_opened_0} and {@code ticket_closed_1})
 * and reads {@code tickets_1}, as classes named for what they hold. A migration that renames a
 * column used here stops this from compiling.
 */
public final class TicketDesk {

    private final DSLContext db;

    public TicketDesk(DSLContext db) {
        this.db = db;
    }

    public void open(String subject, String openedBy) {
        db.insertInto(TICKET_OPENED, TICKET_OPENED.SUBJECT, TICKET_OPENED.OPENED_BY).values(subject, openedBy).execute();
    }

    public void close(long ticket, String resolution) {
        db.insertInto(TICKET_CLOSED, TICKET_CLOSED.TICKET_ID, TICKET_CLOSED.RESOLUTION).values(ticket, resolution).execute();
    }

    /** The tickets nobody has closed yet, oldest first. */
    public List<TicketsRecord> stillOpen() {
        return db.selectFrom(TICKETS).where(TICKETS.RESOLUTION.isNull()).orderBy(TICKETS.ID).fetch();
    }
}
