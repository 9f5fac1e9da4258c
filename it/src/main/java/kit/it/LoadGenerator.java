package kit.it;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Live traffic for the rolling upgrade: workers on virtual threads send
 * registrations, logins, reads, and (where the app's version has them)
 * password changes and messages to every running app, and check each answer
 * against what must be true. Each worker owns the users it registered, so it
 * always knows their current password: a login that fails, or a read that
 * does not find a user registered through another version, is an unexpected
 * error. A few registrations deliberately reuse a taken email through another
 * version and must get 409. It deletes nobody (the demo deletes only users of its own),
 * so that a 401 or 404 for one of its users stays an error.
 */
public final class LoadGenerator implements AutoCloseable {

    /** A running app the load goes to. */
    public record Target(int version, String baseUrl) {
    }

    private record User(long id, String email, String password) {
    }

    private final Http http = new Http();
    private final Ledger ledger = new Ledger();
    private final List<Target> targets = new CopyOnWriteArrayList<>();
    private final List<Long> everyUser = new CopyOnWriteArrayList<>();
    private final AtomicInteger emails = new AtomicInteger();
    private final List<Thread> workers = new ArrayList<>();
    private final long thinkMillis;
    private volatile StepStats stats;
    private volatile boolean databaseDown;
    private final java.util.Set<String> downApps = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile boolean running = true;

    public LoadGenerator(int workerCount, long thinkMillis, StepStats first) {
        this.thinkMillis = thinkMillis;
        this.stats = first;
        for (int i = 0; i < workerCount; i++) {
            int worker = i;
            workers.add(Thread.ofVirtual().name("load-" + i).start(() -> work(worker)));
        }
    }

    public void add(Target target) {
        targets.add(target);
    }

    /** Stops sending to the app; requests already sent to it still finish. */
    public void remove(int version) {
        targets.removeIf(t -> t.version() == version);
    }

    public void startStep(StepStats next) {
        stats = next;
    }

    public long usersRegistered() {
        return everyUser.size();
    }

    /** What the apps acknowledged, to check against the database. */
    public Ledger ledger() {
        return ledger;
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        for (Thread t : workers) {
            t.join(10_000);
        }
    }

    private void work(int worker) {
        List<User> mine = new ArrayList<>();
        ThreadLocalRandom random = ThreadLocalRandom.current();
        while (running) {
            List<Target> now = List.copyOf(targets);
            if (now.isEmpty()) {
                pause(10);
                continue;
            }
            Target target = now.get(random.nextInt(now.size()));
            int dice = random.nextInt(100);
            if (mine.size() < 3 || dice < 20) {
                register(target, worker, mine);
            } else if (dice < 23) {
                registerTakenEmail(target, mine.get(random.nextInt(mine.size())));
            } else if (dice < 25) {
                raceRegistration(target, now.get(random.nextInt(now.size())), worker, mine);
            } else if (dice < 55) {
                logIn(target, mine.get(random.nextInt(mine.size())));
            } else if (dice < 75) {
                read(target, mine.get(random.nextInt(mine.size())));
            } else if (dice < 88 && target.version() >= 2) {
                int i = random.nextInt(mine.size());
                User changed = changePassword(target, mine.get(i));
                if (changed == null) {
                    mine.remove(i);  // its password is unknown now: log in no more
                } else {
                    mine.set(i, changed);
                }
            } else if (target.version() >= 3) {
                message(target, mine.get(random.nextInt(mine.size())), random);
            } else {
                read(target, mine.get(random.nextInt(mine.size())));
            }
            pause(thinkMillis);
        }
    }

    private void register(Target target, int worker, List<User> mine) {
        int n = emails.incrementAndGet();
        String email = "w" + worker + "-" + n + "@load.example";
        String password = "pw-" + n + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
        Map<String, Object> body = target.version() == 0
                ? Map.of("email", email, "password", password)
                : Map.of("email", email, "password", password, "username", "user" + n);
        Http.Result r = http.post(target.baseUrl() + "/users", body);
        String problem = expect(r, 201);
        if (problem == null) {
            long id = r.json().get("id").asLong();
            mine.add(new User(id, email, password));
            everyUser.add(id);
            ledger.registered(id, email, target.version(), password);
        }
        record(target, r, true, problem);
    }

    /** The same fresh email registered through two apps (often two versions) at once: one 201, one 409. */
    private void raceRegistration(Target first, Target second, int worker, List<User> mine) {
        int n = emails.incrementAndGet();
        String email = "race-w" + worker + "-" + n + "@load.example";
        String password = "race-" + n + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
        List<Target> racers = List.of(first, second);
        Http.Result[] results = new Http.Result[2];
        Thread[] threads = new Thread[2];
        for (int i = 0; i < 2; i++) {
            int racer = i;
            Target t = racers.get(i);
            Map<String, Object> body = t.version() == 0
                    ? Map.of("email", email, "password", password)
                    : Map.of("email", email, "password", password, "username", "race" + n);
            threads[i] = Thread.ofVirtual().start(() -> results[racer] = http.post(t.baseUrl() + "/users", body));
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        boolean bothAnswered = (results[0].status() == 201 || results[0].status() == 409)
                && (results[1].status() == 201 || results[1].status() == 409);
        if (bothAnswered) {
            ledger.contested(email);
        }
        int winners = 0;
        for (int i = 0; i < 2; i++) {
            Http.Result r = results[i];
            String problem = r.status() == 201 || r.status() == 409 ? null : expect(r, 201);
            if (r.status() == 201) {
                winners++;
                long id = r.json().get("id").asLong();
                mine.add(new User(id, email, password));
                everyUser.add(id);
                ledger.registered(id, email, racers.get(i).version(), password);
            }
            record(racers.get(i), r, true, problem);
        }
        if (bothAnswered && winners != 1) {
            stats.record(first.version(), 0, false, "a raced email had " + winners + " winners instead of 1");
        }
    }

    private void registerTakenEmail(Target target, User owner) {
        Map<String, Object> body = target.version() == 0
                ? Map.of("email", owner.email(), "password", "another-password")
                : Map.of("email", owner.email(), "password", "another-password", "username", "copycat");
        Http.Result r = http.post(target.baseUrl() + "/users", body);
        String problem = expect(r, 409);
        if (problem == null && !r.body().contains("duplicate_email")) {
            problem = "a taken email got " + r.body();
        }
        record(target, r, true, problem);
    }

    private void logIn(Target target, User user) {
        Http.Result r = http.post(target.baseUrl() + "/sessions", Map.of("email", user.email(), "password", user.password()));
        String problem = expect(r, 200);
        if (problem == null && r.json().get("id").asLong() != user.id()) {
            problem = "login of user " + user.id() + " answered " + r.body();
        }
        record(target, r, false, problem == null ? null : "login of user " + user.id() + ": " + problem);
    }

    private void read(Target target, User user) {
        Http.Result r = http.get(target.baseUrl() + "/users/" + user.id());
        String problem = expect(r, 200);
        if (problem == null && !user.email().equals(r.json().get("email").asString())) {
            problem = "user " + user.id() + " read as " + r.body();
        }
        record(target, r, false, problem == null ? null : "read of user " + user.id() + ": " + problem);
    }

    private User changePassword(Target target, User user) {
        String password = "changed-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
        Http.Result r = http.put(target.baseUrl() + "/users/" + user.id() + "/password", Map.of("password", password));
        String problem = expect(r, 204);
        record(target, r, true, problem);
        if (problem == null) {
            ledger.passwordChanged(user.id(), password);
            return new User(user.id(), user.email(), password);
        }
        if (r.failedInTransport() || r.status() >= 500) {
            ledger.passwordUncertain(user.id());
            return null;
        }
        return user;
    }

    private void message(Target target, User from, ThreadLocalRandom random) {
        long to = everyUser.get(random.nextInt(everyUser.size()));
        Http.Result r = http.post(target.baseUrl() + "/messages", Map.of("src_id", from.id(), "dst_id", to, "content", "hello " + to));
        String problem = expect(r, 201);
        record(target, r, true, problem);
        if (problem == null) {
            ledger.messageSent(r.json().get("id").asLong(), from.id(), to);
            Http.Result inbox = http.get(target.baseUrl() + "/users/" + to + "/messages");
            record(target, inbox, false, expect(inbox, 200));
        }
    }

    /**
     * Counts a request. A failure is unexpected unless it is a lost connection or a 503
     * while the database is known to be down, or comes from an app being killed.
     */
    private void record(Target target, Http.Result r, boolean write, String problem) {
        boolean unavailable = r.failedInTransport() || r.status() == 503;
        if (problem != null && unavailable && (databaseDown || downApps.contains(target.baseUrl()))) {
            stats.tolerate(target.version(), r.nanos());
            return;
        }
        stats.record(target.version(), r.nanos(), write, problem);
    }

    /** While set, lost connections and 503s are expected (the database is being killed and restarted). */
    public void databaseDown(boolean down) {
        this.databaseDown = down;
    }

    /** Stops sending to an app that is about to be killed; its in-flight requests may fail. */
    public void appGoingDown(Target target) {
        downApps.add(target.baseUrl());
        targets.remove(target);
    }

    private static String expect(Http.Result r, int status) {
        if (r.status() == status) {
            return null;
        }
        return (r.failedInTransport() ? "no answer" : "HTTP " + r.status()) + " instead of " + status + ": "
                + (r.body().length() > 200 ? r.body().substring(0, 200) : r.body());
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
