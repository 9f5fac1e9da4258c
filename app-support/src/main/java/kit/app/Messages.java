package kit.app;

import java.util.List;

/** Version 3 and later: messages between users. */
public interface Messages {

    record Message(long id, long srcId, long dstId, String content) {
    }

    /** Records a message fact; the kit refuses one from or to an unknown user with KT004. */
    Message send(long srcId, long dstId, String content);

    /** Messages from or to the user, oldest first. */
    List<Message> involving(long userId);
}
