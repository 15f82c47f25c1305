package io.appointmentserver.validation;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.function.BooleanSupplier;
import org.hl7.fhir.common.hapi.validation.validator.FhirDefaultPolicyAdvisor;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.r5.elementmodel.ParserBase;
import org.hl7.fhir.r5.elementmodel.ValidatedFragment;
import org.hl7.fhir.r5.model.StructureDefinition;
import org.hl7.fhir.r5.utils.validation.ValidatorSession;
import org.hl7.fhir.r5.utils.validation.constants.IdStatus;
import org.hl7.fhir.r5.utils.xver.XVerExtensionManagerOld;
import org.hl7.fhir.utilities.i18n.I18nConstants;
import org.hl7.fhir.utilities.validation.ValidationMessage;
import org.hl7.fhir.validation.ValidatorSettings;
import org.hl7.fhir.validation.instance.InstanceValidator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A generation's HAPI {@link InstanceValidator}s, each with the element-model parser that reads
 * resources for it (both cost more to make than validating the seed): one is taken per
 * validation, so at most one per thread validating, and has what it kept of the resource it
 * validated cleared when it comes back.
 */
final class ValidatorPool {
  // the validator's log lines keep the one logger name they have always had
  private static final Logger log = LoggerFactory.getLogger(ProfileValidator.class);

  /**
   * What an InstanceValidator keeps of the resources it validated, each validation adding to it:
   * the resource's element tree as the key of {@code resourceTracker} (and each Element keeps the
   * invariants run on it and its JSON locations in its user data: tens of kilobytes for the seed
   * appointment), resources fetched, narrative XHTML by element, canonical lookups by URL, and
   * messages and texts tracked while validating, and every coding seen (with the path of Elements
   * to it) in its {@code codingObserver}. HAPI makes a validator per resource, so these
   * start empty there; a pooled validator has them emptied after each use (and its session's
   * objects). Kept, they ran a 1 GB heap out of memory in two minutes of new-content writes.
   */
  static final List<Field> PER_VALIDATION = fields(
      List.of(InstanceValidator.class, org.hl7.fhir.validation.BaseValidator.class),
      "resourceTracker", "fetchCache", "xhtmlElementMap", "crLookups", "textsToCheck", "textsToCheckKeys",
      "trackedMessages", "messagesToRemove", "statusWarnings");
  private static final Field CODING_OBSERVER = fields(List.of(InstanceValidator.class), "codingObserver").stream()
      .findFirst().orElse(null);
  private static final Field CODINGS_SEEN = fields(List.of(org.hl7.fhir.validation.codesystem.CodingsObserver.class), "list")
      .stream().findFirst().orElse(null);
  /** The fields that hold Elements; should a HAPI version lack one, validators are renewed far sooner. */
  private static final boolean ALL_ELEMENT_HOLDERS_KNOWN = CODING_OBSERVER != null && CODINGS_SEEN != null
      && PER_VALIDATION.stream().map(Field::getName).toList()
      .containsAll(List.of("resourceTracker", "fetchCache", "xhtmlElementMap"));
  /**
   * JSON characters a pooled validator validates before it is dropped for a new one (about 20 ms
   * to make), so that whatever else it keeps per content stays bounded too: about 650 seed
   * appointments; 30 if an Element-holding field was not found to clear.
   */
  static final long CHARS_PER_VALIDATOR = ALL_ELEMENT_HOLDERS_KNOWN ? 2_000_000 : 100_000;

  private final RememberingWorkerContext worker;
  private final boolean allowUnknownProfiles;
  /** Whether a validator goes back to the pool after use: while its generation is the one in use. */
  private final BooleanSupplier inUse;
  /** Validators not in use; one is taken per validation, so at most one per thread validating. */
  private final ConcurrentLinkedDeque<Pooled> idle = new ConcurrentLinkedDeque<>();
  /** The definition of each resource type the parsers met, by type name. */
  private final Map<String, StructureDefinition> resourceDefinitions = new ConcurrentHashMap<>();

  /**
   * @param allowUnknownProfiles a claimed profile the server does not know is a warning, not an error
   * @param inUse                whether the generation is still the one in use
   */
  ValidatorPool(RememberingWorkerContext worker, boolean allowUnknownProfiles, BooleanSupplier inUse) {
    this.worker = worker;
    this.allowUnknownProfiles = allowUnknownProfiles;
    this.inUse = inUse;
  }

  /** Makes the first validator, while the generation is prepared (under its lock). */
  void addFirst() {
    idle.offerFirst(newPooled());
  }

  /** Validates {@code json} against the base definitions and {@code profiles} with a pooled validator. */
  List<ValidationMessage> validate(String json, List<StructureDefinition> profiles) {
    Pooled p = idle.pollFirst();
    if (p == null) {
      p = idleOrNew();
    }
    List<ValidationMessage> messages;
    try {
      messages = List.copyOf(validate(p, json, profiles));
    } finally {
      p.forget();
      p.chars += json.length();
      if (p.chars < CHARS_PER_VALIDATOR && inUse.getAsBoolean()) {
        idle.offerFirst(p);
      }
    }
    return messages;
  }

  /**
   * One at a time, after the generation is prepared ({@link Generation#ready}). Lock order: this
   * pool's before the worker's and the definitions' (making a validator may look definitions up).
   */
  private synchronized Pooled idleOrNew() {
    Pooled p = idle.pollFirst();
    if (p != null) {
      return p;
    }
    return newPooled();
  }

  private Pooled newPooled() {
    ValidatorSession session = new ValidatorSession();
    return new Pooled(newInstanceValidator(session), newParser(), session);
  }

  /**
   * As HAPI's ValidatorWrapper and InstanceValidator.validate(InputStream) do for a JSON
   * resource, but with the pooled parser (a new one costs more than validating the seed).
   */
  private List<ValidationMessage> validate(Pooled p, String json, List<StructureDefinition> profiles) {
    List<ValidationMessage> messages = new ArrayList<>();
    List<ValidatedFragment> fragments;
    try {
      fragments = p.parser.parse(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (ValidatedFragment f : fragments) {
      if (f.getElement() != null) {
        p.validator.validate(null, f.getErrors(), fragments.size() > 1 ? f.path() : null, f.getElement(), profiles);
      }
      messages.addAll(f.getErrors());
    }
    List<ValidationMessage> out = new ArrayList<>(messages.size());
    for (ValidationMessage m : messages) {
      String id = m.getMessageId();
      // HAPI drops "binding has no source" the same way: a DSTU3 binding without a value set
      if (I18nConstants.TERMINOLOGY_TX_BINDING_NOSOURCE.equals(id)) {
        continue;
      }
      if (I18nConstants.VALIDATION_VAL_PROFILE_UNKNOWN.equals(id)
          || I18nConstants.VALIDATION_VAL_PROFILE_UNKNOWN_NOT_POLICY.equals(id)) {
        m.setLevel(allowUnknownProfiles ? ValidationMessage.IssueSeverity.WARNING : ValidationMessage.IssueSeverity.ERROR);
      }
      out.add(m);
    }
    return out;
  }

  private ParserBase newParser() {
    ParserBase parser = new DefinitionRememberingJsonParser(worker, resourceDefinitions);
    parser.setupValidation(ParserBase.ValidationPolicy.EVERYTHING);
    return parser;
  }

  /** As HAPI's ValidatorWrapper builds them, with FhirInstanceValidator's default settings. */
  private InstanceValidator newInstanceValidator(ValidatorSession session) {
    InstanceValidator v = new InstanceValidator(worker, new FhirInstanceValidator.NullEvaluationContext(),
        new XVerExtensionManagerOld(worker), session, new ValidatorSettings());
    v.setAssumeValidRestReferences(false);
    v.setAnyExtensionsAllowed(true);
    v.setResourceIdRule(IdStatus.OPTIONAL);
    v.setNoTerminologyChecks(false);
    v.setErrorForUnknownProfiles(!allowUnknownProfiles);
    v.setUnknownCodeSystemsCauseErrors(true);
    v.setPolicyAdvisor(new FhirDefaultPolicyAdvisor());
    v.setNoExtensibleWarnings(false);
    v.setNoBindingMsgSuppressed(false);
    v.setAllowExamples(false);
    v.setAllowXsiLocation(true);
    return v;
  }

  /** The named fields of these classes that are maps or collections, made accessible; those missing are left out. */
  private static List<Field> fields(List<Class<?>> types, String... names) {
    List<Field> out = new ArrayList<>();
    for (String name : names) {
      for (Class<?> type : types) {
        try {
          Field f = type.getDeclaredField(name);
          if (Map.class.isAssignableFrom(f.getType()) || java.util.Collection.class.isAssignableFrom(f.getType())
              || f.getType() == org.hl7.fhir.validation.codesystem.CodingsObserver.class) {
            f.setAccessible(true);
            out.add(f);
          }
          break;
        } catch (ReflectiveOperationException | RuntimeException e) {
          // not in this class (or this HAPI version)
        }
      }
    }
    if (out.size() < names.length) {
      log.warn("HAPI's InstanceValidator lacks some of {}: pooled validators are renewed more often", List.of(names));
    }
    return List.copyOf(out);
  }

  /** A validator and the parser that reads resources for it; used by one thread at a time. */
  private static final class Pooled {
    final InstanceValidator validator;
    final ParserBase parser;
    final ValidatorSession session;
    /** JSON characters validated with it. */
    long chars;

    Pooled(InstanceValidator validator, ParserBase parser, ValidatorSession session) {
      this.validator = validator;
      this.parser = parser;
      this.session = session;
    }

    /** Drops what the validator kept of the resource it validated last ({@link #PER_VALIDATION}). */
    void forget() {
      for (Field f : PER_VALIDATION) {
        try {
          Object held = f.get(validator);
          if (held instanceof Map<?, ?> m) {
            m.clear();
          } else if (held instanceof java.util.Collection<?> c) {
            c.clear();
          }
        } catch (IllegalAccessException | UnsupportedOperationException e) {
          throw new IllegalStateException("cannot clear InstanceValidator." + f.getName(), e);
        }
      }
      if (CODING_OBSERVER != null && CODINGS_SEEN != null) {
        try {
          Object observer = CODING_OBSERVER.get(validator);
          if (observer != null && CODINGS_SEEN.get(observer) instanceof java.util.Collection<?> seen) {
            seen.clear();
          }
        } catch (IllegalAccessException e) {
          throw new IllegalStateException("cannot clear the codings the InstanceValidator saw", e);
        }
      }
      session.getObjects().clear();
    }
  }

  /**
   * The element-model JSON parser (what {@code Manager.makeParser} makes for JSON), remembering
   * per generation the definition of each resource type it reads. HAPI's parser finds it, for
   * the resource and each contained one, by walking the list of every StructureDefinition and
   * building a URL to compare with each: a twentieth of a base validation's CPU (JFR). Found ones
   * only: a type not found is reported by the parser each time, as before.
   */
  static final class DefinitionRememberingJsonParser extends org.hl7.fhir.r5.elementmodel.JsonParser {
    private final Map<String, StructureDefinition> definitions;

    DefinitionRememberingJsonParser(org.hl7.fhir.r5.context.IWorkerContext context, Map<String, StructureDefinition> definitions) {
      super(context);
      this.definitions = definitions;
    }

    @Override
    protected StructureDefinition getDefinition(List<ValidationMessage> errors, int line, int col, String name) {
      StructureDefinition sd = name == null ? null : definitions.get(name);
      if (sd == null) {
        sd = super.getDefinition(errors, line, col, name);
        if (sd != null) {
          definitions.put(name, sd);
        }
      }
      return sd;
    }
  }
}
