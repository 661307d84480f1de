package dev.inferencebudget.controller.api;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import com.networknt.schema.path.NodePath;
import dev.cel.bundle.Cel;
import dev.cel.bundle.CelFactory;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelValidationException;
import dev.cel.common.types.SimpleType;
import dev.cel.common.values.NullValue;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Validates a manifest against a CRD's {@code openAPIV3Schema} the way the API server would,
 * without one: schema defaults are applied first, then the structural schema is checked with
 * networknt's JSON-schema validator and the {@code x-kubernetes-validations} CEL rules are
 * evaluated with cel-java.
 *
 * <p>Kubernetes' schema dialect is OpenAPI 3.0 (draft-4-like: boolean {@code exclusiveMinimum}),
 * with extensions that a JSON-schema validator does not know. They are translated as the API server
 * reads them:
 *
 * <ul>
 *   <li>{@code x-kubernetes-int-or-string} is already spelled out by the generator as {@code anyOf:
 *       [integer, string]}; it is added where missing.
 *   <li>{@code x-kubernetes-preserve-unknown-fields} absent on an object with {@code properties}:
 *       unknown fields are refused ({@code additionalProperties: false}), like {@code kubectl
 *       apply}'s default strict field validation.
 *   <li>{@code nullable: true} allows {@code null} in addition to the type.
 *   <li>{@code x-kubernetes-validations}: evaluated here with {@code self} bound to the node;
 *       {@code fieldPath} is appended to the reported path as the API server does.
 *   <li>The root gets {@code apiVersion}, {@code kind} and {@code metadata}, which the API server
 *       validates itself.
 * </ul>
 *
 * Hand-written because no library does this translation; cel-java lacks Kubernetes' CEL extension
 * libraries (quantity, regex helpers beyond {@code matches}), so the CRDs' rules use only standard
 * CEL.
 */
final class CrdSchemaValidator {

  /**
   * One reason the manifest is refused, reported like the API server does: a field path and a
   * message.
   */
  record Violation(String path, String keyword, String message) {
    @Override
    public String toString() {
      return path + ": [" + keyword + "] " + message;
    }
  }

  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
  private static final String CEL_RULES = "x-kubernetes-validations";

  private final JsonNode kubernetesSchema;
  private final Schema jsonSchema;
  private final Cel cel =
      CelFactory.standardCelBuilder()
          .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
          .addVar("self", SimpleType.DYN)
          .build();
  private final Map<String, CelRuntime.Program> programs = new HashMap<>();

  CrdSchemaValidator(CustomResourceDefinition crd) {
    Objects.requireNonNull(crd, "crd");
    this.kubernetesSchema =
        SERIALIZATION.convertValue(
            crd.getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema(), JsonNode.class);
    this.jsonSchema =
        SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_4)
            .getSchema(toJsonSchema(kubernetesSchema));
  }

  /**
   * The violations of {@code manifest} (a whole object: apiVersion, kind, metadata, spec); empty
   * when valid.
   */
  List<Violation> validate(JsonNode manifest) {
    JsonNode defaulted = withDefaults(manifest);
    List<Violation> violations = new ArrayList<>();
    for (Error error : jsonSchema.validate(defaulted)) {
      violations.add(toViolation(error));
    }
    evaluateCelRules(kubernetesSchema, defaulted, "", violations);
    return violations;
  }

  /**
   * A copy of {@code manifest} with the schema's defaults applied, as the API server does before
   * validating.
   */
  JsonNode withDefaults(JsonNode manifest) {
    JsonNode copy = manifest.deepCopy();
    applyDefaults(kubernetesSchema, copy);
    return copy;
  }

  // --- schema translation
  // -------------------------------------------------------------------------------------------

  private static JsonNode toJsonSchema(JsonNode kubernetes) {
    ObjectNode root = (ObjectNode) translate(kubernetes);
    ObjectNode properties = root.withObjectProperty("properties");
    properties.putObject("apiVersion").put("type", "string");
    properties.putObject("kind").put("type", "string");
    properties.putObject("metadata").put("type", "object");
    return root;
  }

  private static JsonNode translate(JsonNode node) {
    if (node.isArray()) {
      ArrayNode result = JsonNodeFactory.instance.arrayNode();
      node.forEach(element -> result.add(translate(element)));
      return result;
    }
    if (!node.isObject()) {
      return node.deepCopy();
    }
    ObjectNode result = JsonNodeFactory.instance.objectNode();
    for (Map.Entry<String, JsonNode> field : node.properties()) {
      String key = field.getKey();
      if (key.startsWith("x-kubernetes-") || key.equals("nullable")) {
        continue;
      }
      // "properties" maps names to schemas and "default"/"enum"/"example" hold data: translate only
      // schemas.
      if (key.equals("properties")) {
        ObjectNode properties = result.putObject("properties");
        field
            .getValue()
            .properties()
            .forEach(p -> properties.set(p.getKey(), translate(p.getValue())));
      } else if (key.equals("default") || key.equals("enum") || key.equals("example")) {
        result.set(key, field.getValue().deepCopy());
      } else {
        result.set(key, translate(field.getValue()));
      }
    }
    if (node.path("x-kubernetes-int-or-string").asBoolean(false) && !node.has("anyOf")) {
      ArrayNode anyOf = result.putArray("anyOf");
      anyOf.addObject().put("type", "integer");
      anyOf.addObject().put("type", "string");
    }
    if (node.path("nullable").asBoolean(false) && node.has("type")) {
      ArrayNode types = JsonNodeFactory.instance.arrayNode();
      types.add(node.get("type").asString());
      types.add("null");
      result.set("type", types);
    }
    if (node.has("properties")
        && !node.has("additionalProperties")
        && !node.path("x-kubernetes-preserve-unknown-fields").asBoolean(false)) {
      result.put("additionalProperties", false);
    }
    return result;
  }

  // --- defaulting
  // ---------------------------------------------------------------------------------------------------

  private static void applyDefaults(JsonNode schema, JsonNode value) {
    if (value instanceof ObjectNode object && schema.has("properties")) {
      for (Map.Entry<String, JsonNode> property : schema.get("properties").properties()) {
        JsonNode propertySchema = property.getValue();
        if (!object.has(property.getKey()) && propertySchema.has("default")) {
          object.set(property.getKey(), propertySchema.get("default").deepCopy());
        }
        if (object.has(property.getKey())) {
          applyDefaults(propertySchema, object.get(property.getKey()));
        }
      }
    } else if (value instanceof ArrayNode array && schema.has("items")) {
      array.forEach(element -> applyDefaults(schema.get("items"), element));
    }
  }

  // --- JSON-schema errors
  // -------------------------------------------------------------------------------------------

  private static Violation toViolation(Error error) {
    String path = fieldPath(error.getInstanceLocation());
    // Like the API server, name the missing or unknown field itself ("spec.targetRef: Required
    // value").
    if (("required".equals(error.getKeyword()) || "additionalProperties".equals(error.getKeyword()))
        && error.getProperty() != null) {
      path = join(path, error.getProperty());
    }
    return new Violation(path, error.getKeyword(), error.getMessage());
  }

  private static String fieldPath(NodePath location) {
    StringBuilder path = new StringBuilder();
    for (int i = 0; i < location.getNameCount(); i++) {
      Object element = location.getElement(i);
      if (element instanceof Integer index) {
        path.append('[').append(index).append(']');
      } else {
        path.append(path.isEmpty() ? "" : ".").append(element);
      }
    }
    return path.toString();
  }

  private static String join(String path, String name) {
    return path.isEmpty() ? name : path + "." + name;
  }

  // --- CEL
  // ----------------------------------------------------------------------------------------------------------

  private void evaluateCelRules(JsonNode schema, JsonNode value, String path, List<Violation> out) {
    if (value == null || value.isNull() || value.isMissingNode()) {
      return;
    }
    for (JsonNode rule : schema.path(CEL_RULES)) {
      String expression = rule.get("rule").asString();
      String rulePath = path + rule.path("fieldPath").asString("");
      rulePath = rulePath.startsWith(".") ? rulePath.substring(1) : rulePath;
      try {
        Object result = program(expression).eval(Map.of("self", toCel(value)));
        if (!Boolean.TRUE.equals(result)) {
          out.add(new Violation(rulePath, CEL_RULES, rule.path("message").asString(expression)));
        }
      } catch (CelEvaluationException e) {
        out.add(
            new Violation(rulePath, CEL_RULES, "evaluating " + expression + ": " + e.getMessage()));
      }
    }
    if (value.isObject() && schema.has("properties")) {
      for (Map.Entry<String, JsonNode> property : schema.get("properties").properties()) {
        evaluateCelRules(
            property.getValue(), value.get(property.getKey()), join(path, property.getKey()), out);
      }
    } else if (value.isArray() && schema.has("items")) {
      for (int i = 0; i < value.size(); i++) {
        evaluateCelRules(schema.get("items"), value.get(i), path + "[" + i + "]", out);
      }
    }
  }

  private CelRuntime.Program program(String expression) {
    return programs.computeIfAbsent(
        expression,
        text -> {
          try {
            CelAbstractSyntaxTree ast = cel.compile(text).getAst();
            return cel.createProgram(ast);
          } catch (CelValidationException | CelEvaluationException e) {
            throw new IllegalStateException("CEL rule in the CRD does not compile: " + text, e);
          }
        });
  }

  /** JSON as CEL sees it: maps, lists, int (long), double, string, bool, null. */
  private static Object toCel(JsonNode node) {
    if (node.isObject()) {
      Map<String, Object> map = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = node.properties().iterator();
          it.hasNext(); ) {
        Map.Entry<String, JsonNode> field = it.next();
        map.put(field.getKey(), toCel(field.getValue()));
      }
      return map;
    }
    if (node.isArray()) {
      List<Object> list = new ArrayList<>();
      node.forEach(element -> list.add(toCel(element)));
      return list;
    }
    if (node.isIntegralNumber()) {
      return node.asLong();
    }
    if (node.isNumber()) {
      return node.asDouble();
    }
    if (node.isBoolean()) {
      return node.asBoolean();
    }
    if (node.isNull()) {
      return NullValue.NULL_VALUE;
    }
    return node.asString();
  }
}
