package dev.inferencebudget.harness.chart;

import static dev.inferencebudget.harness.chart.RenderedChart.env;
import static dev.inferencebudget.harness.chart.RenderedChart.onlyContainer;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.inferencebudget.controller.config.ControllerConfig;
import dev.inferencebudget.extproc.api.ExtProcConfig;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * The Jib configuration in the module poms builds what the chart runs: the image repositories of
 * {@code values.yaml}, a main class that exists, the chart's non-root user, the configured ports,
 * {@code /tmp} as the JVM's temporary directory, no lifecycle binding (so {@code mvn verify} needs
 * no registry), and for ext-proc the fetched tokenizers under the directory its environment names.
 * Building and running the images is not possible here (no registry access for the base image).
 */
class JibImageConfigTest {

  private static final String JIB = "jib-maven-plugin";

  @Test
  void controllerImageRunsTheControllerMainAsTheChartsUserWithItsPorts() throws Exception {
    Element jib = jibPlugin(Path.of("..", "budget-controller", "pom.xml"));
    RenderedChart chart = RenderedChart.render(java.util.Map.of());

    assertImageMatchesChart(
        jib, chart.deployment(RenderedChart.CONTROLLER), "/controller/image/repository");
    assertThat(text(jib, "configuration/container/mainClass"))
        .isEqualTo("dev.inferencebudget.controller.Main");
    assertHasMain(text(jib, "configuration/container/mainClass"));
    ControllerConfig defaults = ControllerConfig.defaults();
    assertThat(texts(jib, "configuration/container/ports/port"))
        .containsExactlyInAnyOrder(
            String.valueOf(defaults.xdsPort()),
            String.valueOf(defaults.linkApiPort()),
            String.valueOf(defaults.metricsPort()));
  }

  @Test
  void extProcImageCarriesTheFetchedTokenizersWhereItsEnvironmentLooks() throws Exception {
    Element jib = jibPlugin(Path.of("..", "ext-proc", "pom.xml"));
    RenderedChart chart = RenderedChart.render(java.util.Map.of());

    Deployment extProc = chart.deployment(RenderedChart.EXT_PROC);
    assertImageMatchesChart(jib, extProc, "/extProc/image/repository");
    assertThat(text(jib, "configuration/container/mainClass"))
        .isEqualTo("dev.inferencebudget.extproc.Main");
    assertHasMain(text(jib, "configuration/container/mainClass"));
    ExtProcConfig defaults = ExtProcConfig.defaults();
    assertThat(texts(jib, "configuration/container/ports/port"))
        .containsExactlyInAnyOrder(
            String.valueOf(defaults.grpcPort()), String.valueOf(defaults.metricsPort()));
    // the build fetches tokenizers into target/tokenizers/<name>/ (fetch-tokenizers.sh) ...
    assertThat(text(jib, "configuration/extraDirectories/paths/path/from"))
        .isEqualTo("${project.build.directory}/tokenizers");
    assertThat(Files.readString(Path.of("..", "ext-proc", "src", "build", "fetch-tokenizers.sh")))
        .contains("dest=\"$target/tokenizers/qwen3\"");
    // ... the image holds them under the directory the process reads <dir>/<name>/tokenizer.json
    // from
    String into = text(jib, "configuration/extraDirectories/paths/path/into");
    assertThat(text(jib, "configuration/container/environment/IBC_EXTPROC_TOKENIZER_DIR"))
        .isEqualTo(into);
    assertThat(text(jib, "configuration/extraDirectories/paths/path/includes"))
        .contains("*/tokenizer.json");
    // DJL unpacks its native library into the writable /tmp, as the chart sets it too
    assertThat(text(jib, "configuration/container/environment/DJL_CACHE_DIR"))
        .isEqualTo(env(onlyContainer(extProc), "DJL_CACHE_DIR"));
  }

  private static void assertImageMatchesChart(Element jib, Deployment deployment, String valuesKey)
      throws Exception {
    JsonNode values =
        new ObjectMapper(new YAMLFactory())
            .readTree(Files.readString(RenderedChart.CHART.resolve("values.yaml")));
    assertThat(text(jib, "configuration/to/image")).isEqualTo(values.at(valuesKey).asText());
    assertThat(onlyContainer(deployment).getImage())
        .startsWith(text(jib, "configuration/to/image") + ":");
    assertThat(text(jib, "configuration/from/image")).startsWith("eclipse-temurin:17-jre");
    // not bound to the lifecycle: `mvn verify` must never pull or push
    assertThat(jib.getElementsByTagName("executions").getLength()).isZero();
    PodSecurityContext pod = deployment.getSpec().getTemplate().getSpec().getSecurityContext();
    assertThat(text(jib, "configuration/container/user"))
        .isEqualTo(pod.getRunAsUser() + ":" + pod.getRunAsGroup());
    assertThat(texts(jib, "configuration/container/jvmFlags/jvmFlag"))
        .contains("-Djava.io.tmpdir=/tmp");
    assertThat(onlyContainer(deployment).getVolumeMounts())
        .anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/tmp"));
  }

  private static void assertHasMain(String className) throws Exception {
    Method main = Class.forName(className).getMethod("main", String[].class);
    assertThat(Modifier.isStatic(main.getModifiers())).isTrue();
  }

  /** The jib-maven-plugin element of a module pom's build plugins. */
  private static Element jibPlugin(Path pom) throws Exception {
    Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pom.toFile());
    NodeList plugins = doc.getElementsByTagName("plugin");
    for (int i = 0; i < plugins.getLength(); i++) {
      Element plugin = (Element) plugins.item(i);
      if (JIB.equals(text(plugin, "artifactId"))) {
        return plugin;
      }
    }
    throw new AssertionError(pom + " configures no " + JIB);
  }

  private static String text(Element from, String path) {
    List<String> all = texts(from, path);
    assertThat(all).as(path).hasSize(1);
    return all.get(0);
  }

  /** Text of the elements at a slash-separated path of direct children. */
  private static List<String> texts(Element from, String path) {
    List<Element> level = List.of(from);
    for (String name : path.split("/")) {
      List<Element> next = new ArrayList<>();
      for (Element e : level) {
        for (Node child = e.getFirstChild(); child != null; child = child.getNextSibling()) {
          if (child instanceof Element c && c.getTagName().equals(name)) {
            next.add(c);
          }
        }
      }
      level = next;
    }
    return level.stream().map(e -> e.getTextContent().trim()).toList();
  }
}
