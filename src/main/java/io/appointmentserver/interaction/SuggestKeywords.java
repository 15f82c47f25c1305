package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import io.appointmentserver.search.FullText;
import io.appointmentserver.search.Keywords;
import io.appointmentserver.search.Searcher;
import io.appointmentserver.security.AccessTags;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.dstu3.model.DecimalType;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.dstu3.model.Parameters;
import org.hl7.fhir.dstu3.model.StringType;

/**
 * {@code GET [base]/$suggest-keywords?context=Patient/123/$everything&searchParam=_content&text=abc}
 * (as HAPI's JPA server has it): words of the full text of the patient's compartment that start
 * with (or nearly with) {@code text}, as {@code match} parameters with a {@code keyword} and a
 * {@code score} part, best first ({@link Keywords}). Needs the {@code $suggest-keywords} privilege;
 * what it reads is limited by the user's context and read/search privileges per type, as a
 * search's includes are; audited.
 */
public final class SuggestKeywords {
  static final String NAME = "$suggest-keywords";
  private static final Pattern CONTEXT = Pattern.compile("Patient/(" + Ids.ID_PATTERN + ")/\\$everything");
  /** Typed text longer than a word or two is no prefix anyone types. */
  private static final int MAX_TEXT = 100;

  private final Searcher searcher;
  private final Access access;

  SuggestKeywords(Searcher searcher, Access access) {
    this.searcher = searcher;
    this.access = access;
  }

  public Parameters suggest(String context, String searchParam, String text, RequestDetails request) {
    Matcher patient = CONTEXT.matcher(context == null ? "" : context);
    if (!patient.matches()) {
      throw bad("context", "context must be Patient/[id]/$everything, not '" + (context == null ? "" : context) + "'");
    }
    if (searchParam == null || !FullText.PARAMS.contains(searchParam)) {
      throw bad("searchParam", "searchParam must be _content or _text, not '" + (searchParam == null ? "" : searchParam) + "'");
    }
    if (text == null || text.codePoints().noneMatch(Character::isLetterOrDigit) || text.length() > MAX_TEXT) {
      throw bad("text", "text must be the start of a word (up to " + MAX_TEXT + " characters)");
    }
    Searcher.Scope scope = access.scope(request, searcher.keywords().types());
    Parameters out = new Parameters();
    for (Keywords.Keyword k : searcher.keywords().suggest(patient.group(1), searchParam, text, scope)) {
      Parameters.ParametersParameterComponent match = out.addParameter().setName("match");
      match.addPart().setName("keyword").setValue(new StringType(k.word()));
      match.addPart().setName("score").setValue(new DecimalType(Math.round(k.score() * 1000) / 1000.0));
    }
    // one event naming the patient whose words were read
    access.auditedOperation(request, NAME, "Patient", "Patient/" + patient.group(1),
        new String[] {AccessTags.PATIENT + "Patient/" + patient.group(1)});
    return out;
  }

  private static InvalidRequestException bad(String param, String msg) {
    IssueType code = param.equals("text") || msg.contains("''") ? IssueType.REQUIRED : IssueType.INVALID;
    return new InvalidRequestException(msg, Outcomes.error(code, msg));
  }
}
