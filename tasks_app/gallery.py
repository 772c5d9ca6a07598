"""The template gallery (dashboard.md §12): ready-made tasks to start from.

Templates are data, not rows: they ship with the code, every project sees the
same ones, and starting from one creates an ordinary task through
`task_create`. The seeds give each template's purpose, prompt, inputs and
outputs but no title, so the names are ours; prompts follow the seeds' wording
with their variables unchanged. Which variables get an input processor is our
mapping (dashboard.md §12).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from rightbrain.errors import Invalid
from rightbrain.orgs.models import Project, User
from tasks_app.models import LLMModel, Task
from tasks_app.services import RevisionSpec, task_create
from tasks_app.variables import detect_variables

GETTING_STARTED = "Getting started"
GROWTH = "Growth"
OPERATIONS = "Operations"
FINANCE = "Financial & compliance"
ECOMMERCE = "E-commerce & retail"
TECH = "Tech & data"
KNOWLEDGE = "Knowledge & content"
CATEGORIES = (GETTING_STARTED, GROWTH, OPERATIONS, FINANCE, ECOMMERCE, TECH, KNOWLEDGE)

# Suggested models, by catalogue alias (tasks_app/catalogue.py): a strong one
# for reasoning and writing, a quick one for classification, long-context ones
# for big documents and datasets.
STRONG = "Claude Sonnet 4.5"
QUICK = "Claude Haiku 4.5"
LONG_CONTEXT = "Gemini 2.5 Flash"
LONG_REASONING = "Gemini 2.5 Pro"


@dataclass(frozen=True)
class Template:
    slug: str
    name: str
    category: str
    description: str
    user_prompt: str
    output_format: dict[str, Any] | None
    # One value per prompt variable, in prompt order: a run that shows the idea.
    example_inputs: dict[str, str]
    input_descriptions: dict[str, str]
    system_prompt: str = ""
    output_modality: str = Task.OutputModality.JSON
    suggested_model: str = QUICK
    temperature: float | None = None
    input_processors: list[dict[str, Any]] = field(default_factory=list)
    image_required: bool = False
    # When the seeds suggest running it (the integration trigger).
    trigger: str = ""

    @property
    def input_params(self) -> list[str]:
        return detect_variables(self.user_prompt)


# Output-field shorthands for the output_format mini-language.


def _text(description: str) -> dict[str, Any]:
    return {"type": "str", "description": description}


def _choice(description: str, *options: str) -> dict[str, Any]:
    return {"type": "str", "options": list(options), "description": description}


def _integer(description: str) -> dict[str, Any]:
    return {"type": "int", "description": description}


def _number(description: str) -> dict[str, Any]:
    return {"type": "number", "description": description}


def _flag(description: str) -> dict[str, Any]:
    return {"type": "bool", "description": description}


def _texts(description: str) -> dict[str, Any]:
    return {"type": "list", "item_type": "str", "description": description}


def _items(description: str, /, **fields: Any) -> dict[str, Any]:
    return {"type": "list", "nested_structure": fields, "description": description}


def _group(description: str, /, **fields: Any) -> dict[str, Any]:
    return {"type": "object", "nested_structure": fields, "description": description}


def _processor(param: str, name: str, **config: Any) -> dict[str, Any]:
    return {"param_name": param, "input_processor": name, "config": config}


_PRIORITY = ("Critical", "High", "Medium", "Low")
_LEVEL = ("High", "Medium", "Low")

_GETTING_STARTED = [
    Template(
        slug="sentiment-analyser",
        name="Sentiment Analyser",
        category=GETTING_STARTED,
        description=(
            "Judges the sentiment of a customer review and, when a product photo "
            "is attached, describes it and checks that it matches the review."
        ),
        system_prompt=(
            "You are an expert product review analyst specializing in e-commerce "
            "sentiment analysis and visual verification."
        ),
        user_prompt=(
            "Please conduct a comprehensive sentiment analysis on the "
            "{customer_review} and describe the product image (if one is "
            "included). Verify that the image matches the product described in "
            "the review."
        ),
        output_format={
            "sentiment": _text("Whether the review is positive, negative, or neutral"),
            "image_description": _text(
                'A description of the product image. Returns "N/A" if no image provided'
            ),
            "image_match": _text(
                "Whether the image matches the product described in the review"
            ),
        },
        example_inputs={
            "customer_review": (
                "My toaster exploded during breakfast, sending flaming bread across "
                "the kitchen! 😱 On the bright side, I've discovered a new way to "
                "heat up the whole house. But seriously folks, this isn't just a hot "
                "topic – it's a fire hazard! The warranty card didn't mention "
                "anything about impromptu fireworks displays. 🎆"
            )
        },
        input_descriptions={"customer_review": "The text of the customer review"},
        suggested_model=STRONG,
        temperature=0.3,
        trigger="New review submitted",
    ),
    Template(
        slug="text-summarizer",
        name="Text Summarizer",
        category=GETTING_STARTED,
        description="Condenses any text into a short summary and its key points.",
        system_prompt="You write faithful, plain-language summaries.",
        user_prompt=(
            "Summarise the following text in two or three sentences and list its "
            "key points.\n\n{text}"
        ),
        output_format={
            "summary": _text("Two or three sentences covering the whole text"),
            "key_points": _texts("The main points, one short sentence each"),
        },
        example_inputs={
            "text": (
                "Our support team handled 4,210 tickets in March, 12% more than in "
                "February. Median first response time fell from 3.1 to 2.4 hours "
                "after we added weekend cover, and satisfaction rose to 91%. Refund "
                "requests doubled after the price change on 10 March and now make up "
                "a fifth of all tickets."
            )
        },
        input_descriptions={"text": "The text to summarise"},
        temperature=0.3,
        trigger="Any long text: emails, notes, articles",
    ),
    Template(
        slug="document-classifier",
        name="Document Classifier",
        category=GETTING_STARTED,
        description=(
            "Sorts a document into invoice, contract, receipt or other, so a "
            "workflow can route it to the right next step."
        ),
        system_prompt="You classify business documents.",
        user_prompt=(
            "Classify the document below as an invoice, a contract, a receipt or "
            "other, and say briefly why.\n\n{document_text}"
        ),
        output_format={
            "document_type": _choice(
                "The kind of document", "invoice", "contract", "receipt", "other"
            ),
            "reason": _text("The features of the text that decided it"),
        },
        example_inputs={
            "document_text": (
                "INVOICE No. 2025-0142 — Northwind Office Supplies Ltd, 12 Harbour "
                "Road, Bristol. Bill to: Acme Robotics. 40 × A4 paper reams at "
                "£4.20; 6 × toner cartridges at £38.00. Subtotal £396.00, VAT "
                "£79.20, total due £475.20 within 30 days."
            )
        },
        input_descriptions={"document_text": "The document's text"},
        temperature=0.1,
        trigger="First step of a document workflow",
    ),
]

_GROWTH = [
    Template(
        slug="icp-fit-scorer",
        name="ICP Fit Scorer",
        category=GROWTH,
        description="Rates a company against your ideal customer profile.",
        user_prompt=(
            "Score {company_url} against our ICP criteria. Evaluate firmographic "
            "fit, technographic signals, and market positioning based on our "
            "{icp_criteria}. Return a score (0-100) with reasoning for each "
            "criterion."
        ),
        output_format={
            "fit_score": _integer("Overall ICP fit from 0 to 100"),
            "criteria": _items(
                "The score and reasoning for each criterion",
                criterion=_text("The ICP criterion"),
                score=_integer("Fit on this criterion from 0 to 100"),
                reasoning=_text("Why it scored so"),
            ),
            "recommendation": _choice(
                "What to do with the lead", "Qualify", "Nurture", "Disqualify"
            ),
        },
        example_inputs={
            "company_url": "https://www.example.com",
            "icp_criteria": (
                "B2B software companies with 50–500 employees, based in Europe, "
                "running on a cloud stack and selling to mid-market retailers."
            ),
        },
        input_descriptions={
            "company_url": "The company's website (its page text is fetched)",
            "icp_criteria": "Your ideal customer profile criteria",
        },
        input_processors=[_processor("company_url", "url_fetcher", timeout=30)],
        suggested_model=STRONG,
        temperature=0.2,
        trigger="New lead created → update the CRM score field",
    ),
    Template(
        slug="buying-intent-detector",
        name="Buying Intent Detector",
        category=GROWTH,
        description="Spots buying signals in a prospect's engagement history.",
        user_prompt=(
            "Analyse {engagement_history} to identify buying intent signals. Look "
            "for patterns indicating research phase, solution comparison, or "
            "purchase readiness. Classify intent level and recommend next action."
        ),
        output_format={
            "intent_level": _choice("How close the account is to buying", *_LEVEL),
            "key_signals": _texts("The engagement events that show intent"),
            "next_action": _text("The recommended next step for sales"),
        },
        example_inputs={
            "engagement_history": (
                "2 Mar: read the pricing page for 3 minutes. 4 Mar: downloaded the "
                "buyer's guide. 5 Mar: opened two emails, clicked the retail case "
                "study. 7 Mar: asked in chat whether SSO is on the Team plan."
            )
        },
        input_descriptions={
            "engagement_history": "Recent engagement events with their dates"
        },
        temperature=0.2,
        trigger="Weekly batch, or on significant engagement",
    ),
    Template(
        slug="account-enricher",
        name="Account Enricher",
        category=GROWTH,
        description="Adds news, funding, tech stack and pain points to a lead.",
        user_prompt=(
            "Research {company} and extract key account level data. Find: recent "
            "news, funding announcements, technology stack, key initiatives, and "
            "potential pain points relevant to our solution."
        ),
        output_format={
            "overview": _text("What the company does and recent developments"),
            "funding": _text("Recent funding rounds, or none found"),
            "tech_stack": _texts("Technologies the company is known to use"),
            "initiatives": _texts("Key initiatives under way"),
            "talking_points": _texts("Pain points to raise in a first call"),
        },
        example_inputs={"company": "Acme Robotics"},
        input_descriptions={"company": "The company's name (searched on the web)"},
        input_processors=[
            _processor(
                "company",
                "perplexity_search",
                max_results=10,
                query_context="recent news, funding and technology of {company}",
            )
        ],
        suggested_model=STRONG,
        temperature=0.4,
        trigger="New lead, or before sales handoff",
    ),
    Template(
        slug="personalised-cold-email",
        name="Personalised Cold Email",
        category=GROWTH,
        description="Writes outreach tailored to the prospect's role and company.",
        user_prompt=(
            "Write a personalised cold email to {job_title}. Use {company_research} "
            "to reference their recent developments and connect to specific pain "
            "points that {value_proposition} addresses."
        ),
        output_format={
            "subject": _text("The email's subject line"),
            "body": _text("The email body, ready to send"),
        },
        example_inputs={
            "job_title": "Head of Customer Operations at Northwind Retail",
            "company_research": (
                "Opened 40 new stores last year; moving support to a single help "
                "desk; hiring 25 support agents."
            ),
            "value_proposition": (
                "Rightbrain routes and drafts replies to support tickets, so a team "
                "handles more tickets without hiring."
            ),
        },
        input_descriptions={
            "job_title": "The prospect's title (and company)",
            "company_research": "What you know about the prospect's company",
            "value_proposition": "What your product solves",
        },
        suggested_model=STRONG,
        temperature=0.7,
        trigger="After lead qualification → email sequencer",
    ),
    Template(
        slug="persona-landing-page",
        name="Persona Landing Page",
        category=GROWTH,
        description="Adapts your homepage into a landing page for one persona.",
        user_prompt=(
            "Create a compelling, conversion-focused landing page tailored to a "
            "specific target {persona} by adapting and refining content from an "
            "existing {homepage_url}."
        ),
        output_format={
            "headline": _text("The page's main headline"),
            "subheadline": _text("One line under the headline"),
            "sections": _items(
                "The page's sections in order",
                heading=_text("Section heading"),
                body=_text("Section copy"),
            ),
            "call_to_action": _text("The button text and what it offers"),
        },
        example_inputs={
            "persona": "Operations managers at logistics companies",
            "homepage_url": "https://www.example.com",
        },
        input_descriptions={
            "persona": "Who the page is for",
            "homepage_url": "Your homepage (its text is fetched)",
        },
        input_processors=[_processor("homepage_url", "url_fetcher", timeout=30)],
        suggested_model=STRONG,
        temperature=0.7,
        trigger="On demand, or from an assistant",
    ),
    Template(
        slug="feedback-theme-analyser",
        name="Feedback Theme Analyser",
        category=GROWTH,
        description="Finds themes, sentiment and actions in survey responses.",
        user_prompt=(
            "Analyse {survey_responses}. Identify common themes, sentiment "
            "patterns, and actionable insights. Group by positive/negative feedback "
            "and prioritise by frequency and impact."
        ),
        output_format={
            "themes": _items(
                "Recurring themes, most frequent first",
                theme=_text("The theme"),
                sentiment=_choice("Its overall tone", "positive", "negative", "mixed"),
                mentions=_integer("How many responses raise it"),
            ),
            "sentiment_breakdown": _group(
                "Share of responses by sentiment, in percent",
                positive=_number("Percent positive"),
                neutral=_number("Percent neutral"),
                negative=_number("Percent negative"),
            ),
            "actions": _texts("Prioritised actions, highest impact first"),
        },
        example_inputs={
            "survey_responses": (
                "1. Setup took five minutes, love it. 2. Exports to CSV keep timing "
                "out. 3. Great support team! 4. Pricing page is confusing. 5. CSV "
                "export failed twice this week."
            )
        },
        input_descriptions={"survey_responses": "The responses, one per line"},
        suggested_model=LONG_CONTEXT,
        temperature=0.3,
        trigger="Weekly, or after a survey closes",
    ),
]

_OPERATIONS = [
    Template(
        slug="invoice-extractor",
        name="Invoice Extractor",
        category=OPERATIONS,
        description="Turns an invoice document into structured data for the ERP.",
        user_prompt=(
            "Extract structured data from {invoice_document}. Identify vendor "
            "information, invoice metadata, line items with descriptions and "
            "amounts, and calculate totals. Return extraction confidence scores "
            "for each field."
        ),
        output_format={
            "vendor": _group(
                "Who issued the invoice",
                name=_text("Vendor name"),
                address=_text("Vendor address"),
                tax_id=_text("Vendor tax or VAT number"),
            ),
            "invoice": _group(
                "Invoice metadata",
                number=_text("Invoice number"),
                date=_text("Issue date, YYYY-MM-DD"),
                payment_terms=_text("Payment terms"),
            ),
            "line_items": _items(
                "Every line of the invoice",
                description=_text("What was billed"),
                quantity=_number("Quantity"),
                amount=_number("Line total"),
            ),
            "totals": _group(
                "The invoice totals",
                subtotal=_number("Subtotal before tax"),
                tax=_number("Tax"),
                total=_number("Total due"),
            ),
            "confidence": _items(
                "Extraction confidence per field",
                field=_text("Field name"),
                score=_number("Confidence from 0 to 1"),
            ),
        },
        example_inputs={"invoice_document": "invoice-2025-0142.pdf"},
        input_descriptions={"invoice_document": "The uploaded invoice (PDF)"},
        input_processors=[_processor("invoice_document", "document_content_extractor")],
        suggested_model=LONG_CONTEXT,
        temperature=0.0,
        trigger="Invoice uploaded or emailed → ERP entry, exceptions flagged",
    ),
    Template(
        slug="contract-analyser",
        name="Contract Analyser",
        category=OPERATIONS,
        description="Finds parties, terms, obligations and risky clauses.",
        user_prompt=(
            "Analyse {contract_document} and extract key terms. Identify all "
            "parties, contract duration, financial terms, obligations, and "
            "liability clauses. Flag any terms or clauses for review. Extract "
            "renewal dates and termination conditions."
        ),
        output_format={
            "parties": _texts("Every party to the contract"),
            "term": _text("Duration, start and end dates"),
            "renewal": _text("Renewal dates and conditions"),
            "termination": _text("Termination conditions"),
            "financial_obligations": _texts("Payments and other financial terms"),
            "key_clauses": _items(
                "Obligations and liability clauses",
                clause=_text("Clause reference or title"),
                summary=_text("What it requires"),
            ),
            "risk_flags": _items(
                "Terms or clauses for legal review",
                issue=_text("What is unusual or risky"),
                severity=_choice("How serious it is", *_LEVEL),
            ),
        },
        example_inputs={"contract_document": "northwind-msa-2025.pdf"},
        input_descriptions={"contract_document": "The uploaded contract (PDF)"},
        input_processors=[
            _processor("contract_document", "document_content_extractor")
        ],
        suggested_model=STRONG,
        temperature=0.2,
        trigger="Contract uploaded → contract database, legal alerted to risks",
    ),
    Template(
        slug="form-extractor",
        name="Form Extractor",
        category=OPERATIONS,
        description="Extracts and validates the fields of a submitted form.",
        user_prompt=(
            "Extract all field values from {form_document}. Normalise data "
            "formats, check completeness, and assign a completeness score. Flag "
            "any fields that fail validation or are illegible."
        ),
        output_format={
            "fields": _items(
                "Every field on the form",
                name=_text("Field label"),
                value=_text("Value, normalised (dates YYYY-MM-DD, phone E.164)"),
                valid=_flag("Whether the value passes validation"),
            ),
            "completeness_score": _integer("Completeness from 0 to 100"),
            "manual_review": _texts("Fields that are illegible or invalid"),
        },
        example_inputs={"form_document": "account-application-7731.pdf"},
        input_descriptions={"form_document": "The uploaded form (PDF or scan)"},
        input_processors=[_processor("form_document", "document_content_extractor")],
        temperature=0.0,
        trigger="Form submitted → record created, incomplete ones routed to review",
    ),
    Template(
        slug="compliance-reviewer",
        name="Compliance Reviewer",
        category=OPERATIONS,
        description="Checks process documentation against regulatory requirements.",
        user_prompt=(
            "Review {process_documentation} for compliance with "
            "{regulatory_requirements}. Verify all required elements from "
            "{compliance_standards} are present and properly documented. "
            "Cross-check against {audit_findings} to ensure previous issues are "
            "resolved. Flag any gaps or non-compliant areas."
        ),
        output_format={
            "requirements": _items(
                "Status per requirement",
                requirement=_text("The requirement"),
                status=_choice(
                    "Compliance status",
                    "Compliant",
                    "Partially compliant",
                    "Non-compliant",
                ),
                evidence=_text("Where the documentation shows it, or what is missing"),
            ),
            "unresolved_findings": _texts("Previous audit findings still open"),
            "remediation": _texts("Recommended fixes, most urgent first"),
            "audit_readiness_score": _integer("Audit readiness from 0 to 100"),
        },
        example_inputs={
            "process_documentation": (
                "Customer data is stored in the EU. Access is reviewed yearly. "
                "Backups run nightly; restores have not been tested."
            ),
            "regulatory_requirements": "GDPR Articles 5, 30 and 32",
            "compliance_standards": (
                "Quarterly access reviews; tested backup restores; records of "
                "processing"
            ),
            "audit_findings": "2024 audit: no record of processing activities.",
        },
        input_descriptions={
            "process_documentation": "The process or records to review",
            "regulatory_requirements": "The regulation to check against",
            "compliance_standards": "The elements that must be documented",
            "audit_findings": "Findings of the previous audit",
        },
        suggested_model=STRONG,
        temperature=0.2,
        trigger="Scheduled review → compliance report, remediation tickets",
    ),
    Template(
        slug="request-router",
        name="Request Router",
        category=OPERATIONS,
        description="Classifies a request and sends it to the right team.",
        user_prompt=(
            "Classify {request_description} by type and assess urgency. Determine "
            "optimal team assignment, priority level, and estimated resolution "
            "time. Identify any escalation triggers."
        ),
        output_format={
            "classification": _text("The type of request"),
            "team": _text("The team that should handle it"),
            "priority": _choice("How urgent it is", *_PRIORITY),
            "estimated_resolution_hours": _number("Expected hours to resolve"),
            "escalation_triggers": _texts("Conditions that should escalate it"),
        },
        example_inputs={
            "request_description": (
                "The VPN drops every 10 minutes for the whole Leeds office since "
                "this morning's network change; 30 people cannot reach the ERP."
            )
        },
        input_descriptions={"request_description": "The request as submitted"},
        temperature=0.2,
        trigger="New ticket → team queue, SLA timer",
    ),
    Template(
        slug="approval-evaluator",
        name="Approval Evaluator",
        category=OPERATIONS,
        description="Auto-approves a request or routes it for review by policy.",
        user_prompt=(
            "Evaluate {request_details} against {policy}. Determine if request "
            "meets auto-approval thresholds or requires manual review."
        ),
        output_format={
            "recommendation": _choice(
                "The decision", "Auto-approve", "Route for review", "Reject"
            ),
            "approver": _text("Who should approve, when routed"),
            "criteria": _items(
                "Each policy criterion checked",
                criterion=_text("The criterion"),
                met=_flag("Whether the request meets it"),
            ),
            "rationale": _text("Why this recommendation"),
            "required_documents": _texts("Documents still needed"),
        },
        example_inputs={
            "request_details": (
                "Software purchase: 12 design tool licences, £2,880 a year, for the "
                "marketing team; quote attached, budget code MKT-24."
            ),
            "policy": (
                "Purchases under £1,000 with a budget code are auto-approved. Up to "
                "£5,000 need the department head. Software needs a security review."
            ),
        },
        input_descriptions={
            "request_details": "The request and its justification",
            "policy": "The approval policy and thresholds",
        },
        suggested_model=STRONG,
        temperature=0.2,
        trigger="Approval request → approve, route or log the decision",
    ),
]

_FINANCE = [
    Template(
        slug="id-document-verifier",
        name="ID Document Verifier",
        category=FINANCE,
        description=(
            "Checks that an identity document image looks genuine and extracts "
            "its holder's details for KYC."
        ),
        user_prompt=(
            "Verify the authenticity of a document image. Extract all personal "
            "data including name, date of birth, document number, and expiry "
            "date. Calculate confidence scores for authenticity."
        ),
        output_format={
            "validity": _choice("The verdict", "Pass", "Fail", "Review"),
            "full_name": _text("Holder's full name"),
            "date_of_birth": _text("Date of birth, YYYY-MM-DD"),
            "document_number": _text("Document number"),
            "expiry_date": _text("Expiry date, YYYY-MM-DD"),
            "authenticity_confidence": _number("Confidence it is genuine, 0 to 1"),
            "risk_flags": _texts("Signs of tampering or forgery"),
        },
        example_inputs={},
        input_descriptions={},
        image_required=True,
        suggested_model=STRONG,
        temperature=0.0,
        trigger="Onboarding submission → KYC record, manual review if flagged",
    ),
    Template(
        slug="customer-risk-assessor",
        name="Customer Risk Assessor",
        category=FINANCE,
        description="Builds a risk profile of a company from recent news.",
        user_prompt=(
            "Conduct an assessment for a {company} by analysing recent news and "
            "articles. Flag any issues for internal compliance review."
        ),
        output_format={
            "risk_rating": _choice("Overall risk", *_LEVEL),
            "risk_factors": _items(
                "What drives the rating",
                factor=_text("The risk factor"),
                score=_integer("Severity from 0 to 100"),
                evidence=_text("The news or source behind it"),
            ),
            "sanctions_and_pep": _text("Sanctions and PEP screening findings"),
            "monitoring_tier": _choice(
                "Recommended monitoring", "Standard", "Enhanced", "Intensive"
            ),
            "issues_for_review": _texts("Items for the compliance team"),
        },
        example_inputs={"company": "Northwind Trading GmbH"},
        input_descriptions={"company": "The company's name (searched on the web)"},
        input_processors=[
            _processor(
                "company",
                "perplexity_search",
                max_results=10,
                query_context="{company} news, lawsuits, sanctions and regulators",
            )
        ],
        suggested_model=STRONG,
        temperature=0.2,
        trigger="Onboarding and periodic review → monitoring tier, EDD if high",
    ),
    Template(
        slug="payment-reconciler",
        name="Payment Reconciler",
        category=FINANCE,
        description="Matches payments across systems and explains the gaps.",
        user_prompt=(
            "Reconcile payments by matching {third_party} against "
            "{internal_records}. Identify discrepancies, flag unmatched items, and "
            "categorize exceptions by type (timing differences, missing entries, "
            "amount mismatches)."
        ),
        output_format={
            "matched": _items(
                "Records found on both sides",
                reference=_text("Payment reference"),
                amount=_number("Amount"),
            ),
            "exceptions": _items(
                "Discrepancies to investigate",
                reference=_text("Payment reference"),
                category=_choice(
                    "Kind of exception",
                    "Timing difference",
                    "Missing entry",
                    "Amount mismatch",
                ),
                detail=_text("What differs"),
            ),
            "summary": _text("The reconciliation in two sentences"),
        },
        example_inputs={
            "third_party": (
                "3 Mar INV-311 1,200.00; 4 Mar INV-312 860.50; 6 Mar INV-315 99.00"
            ),
            "internal_records": (
                "INV-311 1,200.00 paid 3 Mar; INV-312 865.50 paid 4 Mar; INV-314 "
                "410.00 paid 5 Mar"
            ),
        },
        input_descriptions={
            "third_party": "Bank or payment gateway records",
            "internal_records": "Ledger or accounts receivable records",
        },
        suggested_model=LONG_REASONING,
        temperature=0.0,
        trigger="Source data uploaded → exceptions routed, adjustments synced",
    ),
]

_ECOMMERCE = [
    Template(
        slug="seo-product-description",
        name="SEO Product Description",
        category=ECOMMERCE,
        description="Writes converting, search-friendly copy for a product.",
        user_prompt=(
            "Create a compelling product description for {product_details}. "
            "Generate a product title, short description (150 characters), full "
            "description, feature bullet points, and meta tags."
        ),
        output_format={
            "title": _text("Product title"),
            "short_description": _text("At most 150 characters"),
            "full_description": _text("The full description"),
            "bullet_points": _texts("Feature bullet points"),
            "meta_description": _text("Meta description for search results"),
            "meta_tags": _texts("Search keywords"),
        },
        example_inputs={
            "product_details": (
                "Trailblazer 2 hiking boot: waterproof leather, Vibram sole, 540 g, "
                "sizes 36–47, for day hikes and light trekking."
            )
        },
        input_descriptions={"product_details": "Product name and specifications"},
        suggested_model=STRONG,
        temperature=0.7,
        trigger="New product or bulk catalogue update → storefront",
    ),
    Template(
        slug="product-categoriser",
        name="Product Categoriser",
        category=ECOMMERCE,
        description="Places a product in your category taxonomy.",
        user_prompt=(
            "Classify {product_name} with the following {product_description}. "
            "Assign primary category and relevant subcategories."
        ),
        output_format={
            "primary_category": _text("The main category"),
            "subcategories": _texts("Relevant subcategories"),
            "needs_review": _flag("Whether the choice is uncertain"),
        },
        example_inputs={
            "product_name": "Trailblazer 2",
            "product_description": "Waterproof leather hiking boot with Vibram sole",
        },
        input_descriptions={
            "product_name": "The product's name",
            "product_description": "The product's description",
        },
        temperature=0.1,
        trigger="Product import → category fields, uncertain ones flagged",
    ),
    Template(
        slug="review-insights",
        name="Review Insights",
        category=ECOMMERCE,
        description="Turns a product review into sentiment, themes and fixes.",
        user_prompt=(
            "Analyse customer {review}, extracting sentiment, identify key themes "
            "(quality, value, fit, functionality)."
        ),
        output_format={
            "sentiment": _choice(
                "Overall sentiment", "positive", "negative", "neutral", "mixed"
            ),
            "sentiment_score": _number("From -1 (negative) to 1 (positive)"),
            "themes": _texts("Themes mentioned: quality, value, fit, functionality"),
            "strengths": _texts("What the customer liked"),
            "issues": _texts("Problems to fix"),
            "listing_recommendations": _texts("Changes to the product listing"),
        },
        example_inputs={
            "review": (
                "Comfortable from day one and properly waterproof, but the sizing "
                "runs small — order half a size up. Worth the price."
            )
        },
        input_descriptions={"review": "The review text (and star rating)"},
        temperature=0.3,
        trigger="New review, or a nightly batch → product insights",
    ),
    Template(
        slug="competitor-price-monitor",
        name="Competitor Price Monitor",
        category=ECOMMERCE,
        description="Tracks a competitor's prices and suggests adjustments.",
        user_prompt="Monitor pricing for {competitor} and identify any trends.",
        output_format={
            "prices": _items(
                "Prices found",
                product=_text("Product"),
                price=_number("Current price"),
                currency=_text("Currency code"),
            ),
            "trends": _texts("Price trends and recent changes"),
            "recommended_adjustments": _texts("Our price changes to consider"),
            "alerts": _texts("Significant changes worth acting on now"),
        },
        example_inputs={"competitor": "Summit Outdoor hiking boots"},
        input_descriptions={"competitor": "The competitor or product line"},
        input_processors=[
            _processor(
                "competitor",
                "perplexity_search",
                max_results=10,
                query_context="current prices and discounts for {competitor}",
            )
        ],
        suggested_model=LONG_CONTEXT,
        temperature=0.3,
        trigger="Daily or weekly schedule → repricing workflow",
    ),
    Template(
        slug="customer-inquiry-router",
        name="Customer Inquiry Router",
        category=ECOMMERCE,
        description="Classifies a customer message, routes it and drafts a reply.",
        user_prompt=(
            "Classify customer inquiry: {customer_message}. Identify inquiry type "
            "(order status, returns, product questions, technical support, "
            "complaints). Assess urgency based on tone and content. Route to "
            "appropriate team and generate suggested response template."
        ),
        output_format={
            "category": _choice(
                "Inquiry type",
                "order status",
                "returns",
                "product question",
                "technical support",
                "complaint",
            ),
            "subcategory": _text("A finer label within the category"),
            "priority": _choice("Urgency from tone and content", *_PRIORITY),
            "team": _text("The team to route to"),
            "reply_template": _text("A suggested reply"),
            "escalate": _flag("Whether a supervisor should see it"),
        },
        example_inputs={
            "customer_message": (
                "I ordered a blender (order 48213) two weeks ago and tracking hasn't "
                "moved in six days. I need it for a birthday on Saturday!"
            )
        },
        input_descriptions={"customer_message": "The customer's message"},
        temperature=0.3,
        trigger="New email, chat or portal message → team queue, SLA timer",
    ),
    Template(
        slug="order-status-responder",
        name="Order Status Responder",
        category=ECOMMERCE,
        description="Answers where-is-my-order questions from the order history.",
        user_prompt=(
            "Respond to order status inquiry: {customer_inquiry}. Retrieve order "
            "details for {order_history}. Generate helpful, reassuring response "
            "with relevant tracking details and next steps. Address any concerns "
            "expressed in the inquiry."
        ),
        output_format={
            "reply": _text("The reply to send"),
            "tracking": _text("Carrier, tracking number and status"),
            "expected_delivery": _text("When the order should arrive"),
            "delayed": _flag("Whether the order is late"),
            "follow_up_actions": _texts("What the team should do next"),
        },
        example_inputs={
            "customer_inquiry": "Where is my order? It was meant to come yesterday.",
            "order_history": (
                "Order 48213, blender, shipped 3 Mar with ParcelCo (PC99812), last "
                "scan 4 Mar at the Leeds depot, promised 6 Mar."
            ),
        },
        input_descriptions={
            "customer_inquiry": "The customer's question",
            "order_history": "The order's details and tracking events",
        },
        temperature=0.5,
        trigger="Order status inquiry → automatic reply, escalate delivery issues",
    ),
    Template(
        slug="product-recommender",
        name="Product Recommender",
        category=ECOMMERCE,
        description="Suggests complementary products from purchase history.",
        user_prompt=(
            "Generate personalised product recommendations for customer with "
            "purchase history {purchase_data}. Recommend complementary products, "
            "alternatives, and items matching their style."
        ),
        output_format={
            "recommendations": _items(
                "Five to ten products, best first",
                product=_text("Product"),
                reason=_text("Why it suits this customer"),
                confidence=_number("Confidence from 0 to 1"),
            ),
            "fallback_picks": _texts("Popular picks if the history is thin"),
        },
        example_inputs={
            "purchase_data": (
                "Trailblazer 2 hiking boots (Jan), merino socks ×3 (Jan), 30 l day "
                "pack (Feb)"
            )
        },
        input_descriptions={"purchase_data": "The customer's past purchases"},
        suggested_model=STRONG,
        temperature=0.5,
        trigger="Page view, email campaign or abandoned cart",
    ),
    Template(
        slug="cart-recovery-message",
        name="Cart Recovery Message",
        category=ECOMMERCE,
        description="Writes a playful message to win back an abandoned cart.",
        user_prompt=(
            "Create cart recovery message for customer who abandoned based on "
            "{cart_items}. Craft a playful personalised message highlighting "
            "product benefits and offering a 10% discount."
        ),
        output_format={
            "subject_line": _text("Email subject line"),
            "body": _text("Email body"),
            "product_highlights": _texts("One benefit per cart item"),
            "incentive": _text("The offer, e.g. 10% off with a code"),
            "send_after_hours": _integer("Hours after abandonment to send"),
        },
        example_inputs={"cart_items": "Trailblazer 2 hiking boots, merino socks"},
        input_descriptions={"cart_items": "What was left in the cart"},
        suggested_model=STRONG,
        temperature=0.8,
        trigger="Cart abandoned for 1–24 hours → email with promo code",
    ),
]

_TECH = [
    Template(
        slug="security-vulnerability-scanner",
        name="Security Vulnerability Scanner",
        category=TECH,
        description="Reviews code for vulnerabilities and proposes fixes.",
        user_prompt=(
            "Analyse {source_code} and identify security vulnerabilities including "
            "SQL injection risks, XSS vulnerabilities, authentication flaws, data "
            "exposure issues, and insecure dependencies. Provide specific "
            "remediation guidance for each vulnerability found."
        ),
        output_format={
            "vulnerabilities": _items(
                "Every vulnerability found",
                title=_text("Short name"),
                severity=_choice("Severity", *_PRIORITY),
                cwe=_text("CWE identifier"),
                line=_integer("Line number"),
                fix=_text("The remediation, with a secure example"),
            ),
            "risk_score": _integer("Overall risk from 0 to 100"),
        },
        example_inputs={
            "source_code": (
                "def find_user(name):\n"
                "    return db.execute(f\"SELECT * FROM users WHERE name = '{name}'\")"
            )
        },
        input_descriptions={"source_code": "The code to scan"},
        suggested_model=STRONG,
        temperature=0.1,
        trigger="Pre-commit or pull request → block merge on critical issues",
    ),
    Template(
        slug="code-reviewer",
        name="Code Reviewer",
        category=TECH,
        description="Reviews a change for quality, performance and maintainability.",
        user_prompt=(
            "Review {code_changes} and analyse code quality, best practice "
            "compliance, performance implications, and maintainability. Provide "
            "actionable improvement suggestions."
        ),
        output_format={
            "assessment": _text("Overall quality in two sentences"),
            "concerns": _texts("Best-practice, performance or maintenance issues"),
            "documentation_gaps": _texts("What needs documenting"),
            "suggestions": _items(
                "Improvements, most valuable first",
                suggestion=_text("What to change"),
                example=_text("A short code example"),
            ),
        },
        example_inputs={
            "code_changes": (
                "+ for order in Order.objects.all():\n"
                "+     total += order.customer.discount * order.amount"
            )
        },
        input_descriptions={"code_changes": "The diff or changed code"},
        suggested_model=STRONG,
        temperature=0.2,
        trigger="Pull request opened → review comments, labels",
    ),
    Template(
        slug="data-quality-validator",
        name="Data Quality Validator",
        category=TECH,
        description="Checks a dataset for missing, malformed or odd values.",
        user_prompt=(
            "Validate {dataset} for completeness, identifying any missing fields. "
            "Ensure provided fields are in the correct format and within "
            "reasonable ranges."
        ),
        output_format={
            "quality_score": _integer("Overall quality from 0 to 100"),
            "issues": _items(
                "Problems by field",
                field=_text("Field"),
                severity=_choice("Severity", *_LEVEL),
                description=_text("What is wrong"),
            ),
            "row_errors": _items(
                "Rows with errors",
                row=_integer("Row number"),
                error=_text("The error"),
            ),
            "remediation": _texts("How to fix the data"),
        },
        example_inputs={
            "dataset": (
                "id,email,age,country\n1,ann@example.com,34,GB\n2,,29,FR\n"
                "3,bob@example,212,DE"
            )
        },
        input_descriptions={"dataset": "The data, e.g. CSV or JSON"},
        suggested_model=LONG_CONTEXT,
        temperature=0.0,
        trigger="Import or ETL stage → quarantine bad rows",
    ),
    Template(
        slug="anomaly-detector",
        name="Anomaly Detector",
        category=TECH,
        description="Finds outliers and pattern breaks in a dataset.",
        user_prompt=(
            "Analyse {dataset} for anomalies by comparing against the entire "
            "dataset. Identify statistical outliers, pattern breaks, trend "
            "deviations, and unexpected values."
        ),
        output_format={
            "anomalies": _items(
                "Anomalies, most severe first",
                description=_text("What is unusual"),
                kind=_choice(
                    "Kind of anomaly",
                    "outlier",
                    "pattern break",
                    "trend deviation",
                    "unexpected value",
                ),
                severity=_choice("Severity", *_LEVEL),
                likely_cause=_text("A probable root cause"),
            ),
            "statistics": _text("The statistics behind the findings"),
        },
        example_inputs={
            "dataset": (
                "day,orders\nMon,410\nTue,395\nWed,402\nThu,38\nFri,417\nSat,1290"
            )
        },
        input_descriptions={"dataset": "The data to scan"},
        suggested_model=LONG_REASONING,
        temperature=0.2,
        trigger="Stream or batch → alert the data team",
    ),
    Template(
        slug="log-analyser",
        name="Log Analyser",
        category=TECH,
        description="Summarises errors and patterns in logs for troubleshooting.",
        user_prompt=(
            "Analyse {log_files}. Extract errors, warnings, and critical events. "
            "Identify patterns indicating system issues, performance degradation, "
            "or security concerns. Correlate related log entries to trace issues. "
            "Summarise key findings and recommend troubleshooting steps."
        ),
        output_format={
            "errors": _integer("Number of errors"),
            "warnings": _integer("Number of warnings"),
            "critical_events": _texts("Critical events in order"),
            "concerns": _texts("Performance or security concerns"),
            "summary": _text("The key findings"),
            "next_steps": _texts("Troubleshooting steps"),
        },
        example_inputs={
            "log_files": (
                "09:00:01 INFO start\n09:02:13 WARN pool 90% used\n09:02:40 ERROR "
                "timeout db-1\n09:02:41 ERROR timeout db-1\n09:03:00 CRIT pool "
                "exhausted"
            )
        },
        input_descriptions={"log_files": "The log lines"},
        suggested_model=LONG_CONTEXT,
        temperature=0.2,
        trigger="Schedule or alert threshold → incident ticket",
    ),
    Template(
        slug="pr-summariser",
        name="PR Summariser",
        category=TECH,
        description="Explains a pull request for engineers and for everyone else.",
        user_prompt=(
            "Analyse {pull_request} and generate two summaries. For the technical "
            "summary, detail the code changes, affected components, and "
            "implementation approach. For the non-technical summary, explain what "
            "changed in plain language, why it matters, and the impact on users or "
            "the business."
        ),
        output_format={
            "technical_summary": _text("Changes, components and approach"),
            "non_technical_summary": _text("What changed, why, and the impact"),
        },
        example_inputs={
            "pull_request": (
                "Add retry with exponential backoff to the payment webhook handler; "
                "store failed events in a dead-letter table; alert after 5 failures."
            )
        },
        input_descriptions={"pull_request": "The pull request title, body and diff"},
        temperature=0.4,
        trigger="PR merged → Slack post, release notes",
    ),
    Template(
        slug="changelog-writer",
        name="Changelog Writer",
        category=TECH,
        description="Turns commits into a user-friendly changelog entry.",
        user_prompt=(
            "Generate changelog entry based on a {commit}. Categorise changes into "
            "features, bug fixes, improvements, breaking changes, and "
            "deprecations. Write user-friendly descriptions for each change, "
            "highlighting impact and migration requirements."
        ),
        output_format={
            "features": _texts("New features"),
            "fixes": _texts("Bug fixes"),
            "improvements": _texts("Improvements"),
            "breaking_changes": _texts("Breaking changes"),
            "deprecations": _texts("Deprecations"),
            "migration_notes": _text("What users must do to upgrade"),
        },
        example_inputs={
            "commit": (
                "feat: CSV export for reports; fix: time zones in weekly chart; "
                "refactor!: /v1/stats removed, use /v1/reports"
            )
        },
        input_descriptions={"commit": "Commit messages or merged pull requests"},
        temperature=0.4,
        trigger="Release tag → changelog file, release notes",
    ),
]

_KNOWLEDGE = [
    Template(
        slug="blog-outline-generator",
        name="Blog Outline Generator",
        category=KNOWLEDGE,
        description="Outlines a search-minded blog post for a writer.",
        user_prompt=(
            "Generate a blog outline for {topic}. Structure the outline with a "
            "compelling title, key sections with subheadings, and bullet points "
            "for main arguments or ideas under each section. Include suggestions "
            "for the introduction hook and closing CTA."
        ),
        output_format={
            "title_options": _texts("Three title options"),
            "hook": _text("The introduction's hook"),
            "sections": _items(
                "Sections in order",
                heading=_text("Subheading"),
                points=_texts("Main points to cover"),
                keywords=_texts("Keywords for the section"),
            ),
            "call_to_action": _text("The closing call to action"),
        },
        example_inputs={"topic": "How small retailers can use AI for customer support"},
        input_descriptions={"topic": "The topic and target keywords"},
        suggested_model=STRONG,
        temperature=0.7,
        trigger="Content calendar → writer via Slack",
    ),
    Template(
        slug="social-post-adapter",
        name="Social Post Adapter",
        category=KNOWLEDGE,
        description="Rewrites content for one social platform's conventions.",
        user_prompt=(
            "Adapt {source_content} for {platform}. Extract the key message and "
            "reformat for platform best practices: character limits, hashtag usage, "
            "and engagement patterns. Include a compelling hook, clear message, and "
            "appropriate call-to-action."
        ),
        output_format={
            "post": _text("The post, ready to publish"),
            "hashtags": _texts("Hashtags to add"),
        },
        example_inputs={
            "source_content": (
                "We cut support response times by 40% by routing tickets with AI. "
                "Here is what we learned in the first three months."
            ),
            "platform": "LinkedIn",
        },
        input_descriptions={
            "source_content": "The article, post or announcement",
            "platform": "LinkedIn, X, Instagram…",
        },
        suggested_model=STRONG,
        temperature=0.7,
        trigger="Scheduling tool → social calendar",
    ),
    Template(
        slug="document-summariser",
        name="Document Summariser",
        category=KNOWLEDGE,
        description="Pulls findings, statistics and actions out of a long document.",
        user_prompt=(
            "Summarise a {document}, extracting key findings, main arguments, "
            "important statistics, and action items. Maintain context and "
            "accuracy. Identify and quote critical statements."
        ),
        output_format={
            "executive_summary": _text("The document in one paragraph"),
            "key_findings": _texts("Findings and main arguments"),
            "quotes": _texts("Critical statements and statistics, quoted exactly"),
            "action_items": _texts("Actions the document calls for"),
        },
        example_inputs={"document": "annual-report-2024.pdf"},
        input_descriptions={"document": "The uploaded document"},
        input_processors=[_processor("document", "document_content_extractor")],
        suggested_model=LONG_REASONING,
        temperature=0.3,
        trigger="Upload → share with stakeholders, knowledge base",
    ),
    Template(
        slug="faq-builder",
        name="FAQ Builder",
        category=KNOWLEDGE,
        description="Turns a customer question into an FAQ entry from your docs.",
        user_prompt=(
            "Generate an FAQ entry from {customer_question}. Search "
            "{company_documentation} to find the accurate answer. Rephrase the "
            "question for clarity and broader relevance. Write a clear, concise "
            "answer that addresses the question directly. Suggest related "
            "questions the customer might also ask."
        ),
        output_format={
            "question": _text("The question, rephrased"),
            "answer": _text("A clear, concise answer"),
            "source": _text("Where in the documentation the answer comes from"),
            "related_questions": _texts("Related questions"),
        },
        example_inputs={
            "customer_question": "can i get my money back if i cancel after a week",
            "company_documentation": (
                "Refunds: annual plans cancelled within 14 days are refunded in "
                "full. Monthly plans are not refunded but stay active until the end "
                "of the period."
            ),
        },
        input_descriptions={
            "customer_question": "The question as the customer asked it",
            "company_documentation": "The documentation to answer from",
        },
        temperature=0.3,
        trigger="Knowledge base and help centre updates",
    ),
    Template(
        slug="web-research-brief",
        name="Web Research Brief",
        category=KNOWLEDGE,
        description="Researches a topic on the web and cites its sources.",
        user_prompt=(
            "Research {topic} using web search. Gather relevant information from "
            "credible sources. Compile findings into a structured summary covering "
            "key facts, recent developments, and different perspectives. Cite "
            "sources for all claims."
        ),
        output_format={
            "executive_summary": _text("The answer in one paragraph"),
            "findings": _items(
                "Findings by theme",
                theme=_text("Theme"),
                summary=_text("What the sources say"),
            ),
            "recent_developments": _texts("Recent developments or trends"),
            "citations": _texts("Source URLs"),
        },
        example_inputs={"topic": "EU AI Act obligations for customer chatbots"},
        input_descriptions={"topic": "What to research (searched on the web)"},
        input_processors=[_processor("topic", "perplexity_search", max_results=15)],
        suggested_model=STRONG,
        temperature=0.4,
        trigger="Research folder, Slack",
    ),
    Template(
        slug="competitor-content-strategy",
        name="Competitor Content Strategy",
        category=KNOWLEDGE,
        description="Analyses how a competitor markets itself.",
        user_prompt=(
            "Research {competitor_name}'s content strategy using web search. "
            "Analyse their website, blog, and social presence. Identify key "
            "messaging themes, value propositions, content formats, and target "
            "audience. Summarise their positioning and content approach."
        ),
        output_format={
            "themes": _texts("Messaging themes"),
            "value_propositions": _texts("Value propositions"),
            "formats_and_channels": _texts("Content formats and channels used"),
            "audience": _text("Who they target"),
            "positioning": _text("Their positioning in two sentences"),
        },
        example_inputs={"competitor_name": "Summit Outdoor"},
        input_descriptions={
            "competitor_name": "The competitor's name (searched on the web)"
        },
        input_processors=[
            _processor(
                "competitor_name",
                "perplexity_search",
                max_results=10,
                query_context="{competitor_name} website, blog and social media",
            )
        ],
        suggested_model=STRONG,
        temperature=0.4,
        trigger="Competitive-intelligence folder, Slack",
    ),
]

TEMPLATES: tuple[Template, ...] = (
    *_GETTING_STARTED,
    *_GROWTH,
    *_OPERATIONS,
    *_FINANCE,
    *_ECOMMERCE,
    *_TECH,
    *_KNOWLEDGE,
)
_BY_SLUG = {template.slug: template for template in TEMPLATES}


def template_named(slug: str) -> Template | None:
    return _BY_SLUG.get(slug)


def templates_by_category() -> list[tuple[str, list[Template]]]:
    """The gallery's sections in display order."""
    return [
        (category, [t for t in TEMPLATES if t.category == category])
        for category in CATEGORIES
    ]


def suggested_model(template: Template) -> LLMModel | None:
    """The catalogue model the template suggests, if this instance offers it."""
    return LLMModel.objects.filter(
        alias=template.suggested_model, enabled=True, retired__isnull=True
    ).first()


def revision_spec_for(template: Template, *, llm_model: LLMModel) -> RevisionSpec:
    """The first revision's configuration; the temperature only where the model
    takes one."""
    takes_temperature = "temperature" in (llm_model.model_params or {})
    return RevisionSpec(
        system_prompt=template.system_prompt,
        user_prompt=template.user_prompt,
        llm_model_id=llm_model.pk,
        llm_config=(
            {"temperature": template.temperature}
            if template.temperature is not None and takes_temperature
            else {}
        ),
        # Copies: a task must never share a mutable dict with the gallery.
        output_format=copy.deepcopy(template.output_format),
        image_required=template.image_required,
        input_processors=copy.deepcopy(template.input_processors),
        input_param_descriptions=dict(template.input_descriptions),
    )


def task_create_from_template(
    *,
    project: Project,
    user: User | None,
    template: Template,
    llm_model_id: UUID | None = None,
    name: str | None = None,
) -> Task:
    """A new task configured as the template says, on the model given or else
    the template's suggested one."""
    if llm_model_id is None:
        model = suggested_model(template)
        if model is None:
            raise Invalid(
                f"{template.suggested_model} is not available here; choose a model.",
                field="llm_model_id",
            )
    else:
        model = LLMModel.objects.filter(pk=llm_model_id).first()
        if model is None:
            raise Invalid(
                f"There is no model with id {llm_model_id}.", field="llm_model_id"
            )
    return task_create(
        project=project,
        user=user,
        name=name or template.name,
        description=template.description,
        output_modality=template.output_modality,
        revision=revision_spec_for(template, llm_model=model),
    )
