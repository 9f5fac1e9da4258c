package kit.app;

import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Password hashes: PBKDF2-HMAC-SHA256 from the JDK (a maintained implementation,
 * no extra dependency), salted, with a configurable cost so tests stay fast.
 * Stored as {@code pbkdf2-sha256$<iterations>$<salt>$<hash>}, so hashes of
 * different costs verify side by side. Hashes already in the database in the
 * original form (64 hex characters, unsalted SHA-256) still verify.
 */
public final class Passwords {

    private static final String PREFIX = "pbkdf2-sha256";
    private static final Pattern LEGACY_SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final int SALT_BYTES = 16;
    private static final int HASH_BITS = 256;

    private final int iterations;
    private final SecureRandom random = new SecureRandom();

    public Passwords(int iterations) {
        this.iterations = iterations;
    }

    public String hash(String password) {
        byte[] salt = new byte[SALT_BYTES];
        random.nextBytes(salt);
        Base64.Encoder b64 = Base64.getEncoder().withoutPadding();
        return PREFIX + "$" + iterations + "$" + b64.encodeToString(salt) + "$" + b64.encodeToString(pbkdf2(password, salt, iterations));
    }

    public boolean verify(String password, String stored) {
        if (stored == null) {
            return false;
        }
        if (LEGACY_SHA256.matcher(stored).matches()) {
            byte[] actual = sha256(password);
            return MessageDigest.isEqual(actual, HexFormat.of().parseHex(stored));
        }
        String[] parts = stored.split("\\$");
        if (parts.length != 4 || !parts[0].equals(PREFIX)) {
            return false;
        }
        try {
            int cost = Integer.parseInt(parts[1]);
            byte[] salt = Base64.getDecoder().decode(parts[2]);
            byte[] expected = Base64.getDecoder().decode(parts[3]);
            return MessageDigest.isEqual(expected, pbkdf2(password, salt, cost));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static byte[] pbkdf2(String password, byte[] salt, int iterations) {
        PBEKeySpec spec = new PBEKeySpec(password.toCharArray(), salt, iterations, HASH_BITS);
        try {
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("PBKDF2WithHmacSHA256 is missing from this JDK", e);
        } finally {
            spec.clearPassword();
        }
    }

    private static byte[] sha256(String password) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(password.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
