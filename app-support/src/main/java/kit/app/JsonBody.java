package kit.app;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A request's JSON object, read strictly: it must be an object, every field the
 * route expects must be there with the right type, and no other field may be.
 * Every problem is a 400 with a code and a sentence, never a 500.
 */
public final class JsonBody {

    static final ObjectMapper MAPPER = JsonMapper.builder().build();

    private final JsonNode node;

    private JsonBody(JsonNode node) {
        this.node = node;
    }

    static JsonBody parse(byte[] body, Set<String> allowedFields) {
        if (body.length == 0) {
            throw ApiException.badRequest("malformed_json", "The request needs a JSON object body.");
        }
        JsonNode node;
        try {
            node = MAPPER.readTree(body);
        } catch (JacksonException e) {
            throw ApiException.badRequest("malformed_json", "The body is not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw ApiException.badRequest("malformed_json", "The body must be a JSON object.");
        }
        List<String> unknown = new ArrayList<>();
        for (String name : node.propertyNames()) {
            if (!allowedFields.contains(name)) {
                unknown.add(name);
            }
        }
        if (!unknown.isEmpty()) {
            throw ApiException.badRequest("unknown_field", "Unknown field(s): " + String.join(", ", unknown)
                    + " (expected: " + String.join(", ", allowedFields.stream().sorted().toList()) + ")");
        }
        return new JsonBody(node);
    }

    /** A required string of 1..maxLength characters, with no NUL character (PostgreSQL text cannot hold one). */
    public String string(String field, int maxLength) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            throw ApiException.badRequest("missing_field", "Field " + field + " is required.");
        }
        if (!value.isString()) {
            throw ApiException.badRequest("wrong_type", "Field " + field + " must be a string.");
        }
        String text = value.asString();
        if (text.isEmpty() || text.length() > maxLength) {
            throw ApiException.badRequest("invalid_value", "Field " + field + " must have 1 to " + maxLength + " characters.");
        }
        if (text.indexOf('\0') >= 0) {
            throw ApiException.badRequest("invalid_value", "Field " + field + " must not contain a NUL character.");
        }
        if (!wellFormed(text)) {
            throw ApiException.badRequest("invalid_value", "Field " + field + " is not well-formed Unicode (a lone surrogate).");
        }
        return text;
    }

    /** A required whole-number id. */
    public long id(String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            throw ApiException.badRequest("missing_field", "Field " + field + " is required.");
        }
        if (!value.isIntegralNumber() || !value.canConvertToLong()) {
            throw ApiException.badRequest("wrong_type", "Field " + field + " must be a whole number.");
        }
        return value.asLong();
    }

    /** True unless the text holds a lone UTF-16 surrogate (JSON allows the escape; UTF-8 cannot store it). */
    static boolean wellFormed(String text) {
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            if (Character.isHighSurrogate(ch) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(ch)) {
                return false;
            }
        }
        return true;
    }

    public boolean has(String field) {
        return node.has(field);
    }
}
