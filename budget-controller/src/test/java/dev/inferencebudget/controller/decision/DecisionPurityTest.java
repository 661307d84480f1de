package dev.inferencebudget.controller.decision;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZonedDateTime;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Keeps the decision core pure: JDK values in, values out; no I/O, clock, threads or logging. */
class DecisionPurityTest {

  private static final String CORE = "dev.inferencebudget.controller.decision..";
  private static JavaClasses core;

  @BeforeAll
  static void importCore() {
    core =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.inferencebudget.controller.decision");
  }

  @Test
  @DisplayName("the decision core uses no Kubernetes, gRPC, protobuf or other project packages")
  void noFrameworks() {
    ArchRule rule =
        noClasses()
            .that()
            .resideInAPackage(CORE)
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(
                "io.fabric8..",
                "io.grpc..",
                "com.google.protobuf..",
                "io.netty..",
                "io.vertx..",
                "io.prometheus..",
                "dev.inferencebudget.proto..",
                "dev.inferencebudget.controller.api..",
                "dev.inferencebudget.controller.link..",
                "dev.inferencebudget.xds..");
    rule.check(core);
  }

  @Test
  @DisplayName("the decision core does no I/O")
  void noIo() {
    noClasses()
        .that()
        .resideInAPackage(CORE)
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("java.io..", "java.net..", "java.nio.file..", "java.nio.channels..")
        .check(core);
  }

  @Test
  @DisplayName("the decision core reads no clock")
  void noClock() {
    noClasses()
        .that()
        .resideInAPackage(CORE)
        .should()
        .callMethod(Instant.class, "now")
        .orShould()
        .callMethod(System.class, "currentTimeMillis")
        .orShould()
        .callMethod(System.class, "nanoTime")
        .orShould()
        .callMethod(LocalDateTime.class, "now")
        .orShould()
        .callMethod(LocalTime.class, "now")
        .orShould()
        .callMethod(ZonedDateTime.class, "now")
        .orShould()
        .dependOnClassesThat()
        .areAssignableTo(Clock.class)
        .check(core);
  }

  @Test
  @DisplayName("the decision core starts no threads and uses no executors or locks")
  void noThreads() {
    noClasses()
        .that()
        .resideInAPackage(CORE)
        .should()
        .dependOnClassesThat()
        .areAssignableTo(Thread.class)
        .orShould()
        .dependOnClassesThat()
        .resideInAnyPackage("java.util.concurrent..")
        .check(core);
  }

  @Test
  @DisplayName("the decision core does no logging")
  void noLogging() {
    noClasses()
        .that()
        .resideInAPackage(CORE)
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("org.slf4j..", "java.util.logging..", "org.apache.logging..")
        .orShould()
        .accessField(System.class, "out")
        .orShould()
        .accessField(System.class, "err")
        .check(core);
  }
}
