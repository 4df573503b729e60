//! The vocabulary the synthetic tenant draws from: names, departments, offices, subjects and
//! sentences. Invented for mdflow; any resemblance to a real organisation is the point of
//! "Contoso".

#[rustfmt::skip]
pub(super) const GIVEN: &[&str] = &[
    "Adele", "Alex", "Allan", "Amara", "Anil", "Bianca", "Carlos", "Chen", "Christie", "Dana",
    "Debra", "Diego", "Elena", "Emily", "Enrico", "Fatima", "Grady", "Hana", "Henrietta",
    "Irvin", "Isaiah", "Jamal", "Joni", "Kenji", "Lee", "Leila", "Lidia", "Lynne", "Mateo",
    "Megan", "Miriam", "Nestor", "Nina", "Olga", "Omar", "Patti", "Pradeep", "Priya", "Rafael",
    "Ravi", "Sakura", "Sofia", "Tariq", "Thandi", "Tomas", "Uma", "Viktor", "Wen", "Yara",
    "Zoe",
];

#[rustfmt::skip]
pub(super) const SURNAMES: &[&str] = &[
    "Adams", "Berger", "Bowen", "Brown", "Castillo", "Diaz", "Evans", "Fernandez", "Garcia",
    "Graham", "Gupta", "Hansen", "Holloway", "Ito", "Johnson", "Kaur", "Kim", "Larsen", "Lopez",
    "Martin", "Mensah", "Moreau", "Nakamura", "Novak", "Okafor", "Olsen", "Patel", "Petrov",
    "Quinn", "Rossi", "Robbins", "Sanchez", "Schmidt", "Sherman", "Silva", "Singh", "Sousa",
    "Tanaka", "Torres", "Vance", "Varga", "Wagner", "Wilber", "Wong", "Yilmaz", "Zhang",
];

/// Departments with the job titles people below the top two levels hold there.
pub(super) const DEPARTMENTS: &[(&str, &[&str])] = &[
    (
        "Finance",
        &[
            "Accountant",
            "Financial Analyst",
            "Controller",
            "Payroll Specialist",
        ],
    ),
    (
        "Sales & Marketing",
        &[
            "Account Executive",
            "Marketing Specialist",
            "Sales Associate",
        ],
    ),
    (
        "Engineering",
        &[
            "Software Engineer",
            "Senior Software Engineer",
            "Test Engineer",
        ],
    ),
    (
        "Operations",
        &["Operations Analyst", "Logistics Coordinator", "Buyer"],
    ),
    (
        "Human Resources",
        &["HR Generalist", "Recruiter", "Benefits Specialist"],
    ),
    ("Legal", &["Paralegal", "Attorney", "Compliance Officer"]),
    (
        "Research & Development",
        &["Researcher", "Product Designer", "Data Scientist"],
    ),
    (
        "IT",
        &[
            "Systems Administrator",
            "Support Engineer",
            "Network Engineer",
        ],
    ),
];

/// The department of the top of the tree.
pub(super) const EXECUTIVE: &str = "Executive Management";

/// An office people work from.
pub(super) struct Office {
    pub(super) city: &'static str,
    pub(super) state: &'static str,
    pub(super) country: &'static str,
    /// Two-letter country code, as `usageLocation` holds it.
    pub(super) usage: &'static str,
    pub(super) postal: &'static str,
    pub(super) street: &'static str,
    /// Phone prefix; a four-digit extension follows.
    pub(super) phone: &'static str,
}

const fn o(
    city: &'static str,
    state: &'static str,
    country: &'static str,
    usage: &'static str,
    postal: &'static str,
    street: &'static str,
    phone: &'static str,
) -> Office {
    Office {
        city,
        state,
        country,
        usage,
        postal,
        street,
        phone,
    }
}

#[rustfmt::skip]
pub(super) const OFFICES: &[Office] = &[
    o("Seattle", "WA", "United States", "US", "98121", "2230 1st Ave", "+1 206 555"),
    o("Redmond", "WA", "United States", "US", "98052", "One Microsoft Way", "+1 425 555"),
    o("Louisville", "KY", "United States", "US", "40223", "9900 Corporate Campus", "+1 502 555"),
    o("Toronto", "ON", "Canada", "CA", "M5H 2N2", "100 King St W", "+1 416 555"),
    o("London", "", "United Kingdom", "GB", "EC2A 4NE", "1 Finsbury Ave", "+44 20 7946"),
    o("Dublin", "", "Ireland", "IE", "D02 X285", "South County Business Park", "+353 1 555"),
    o("Berlin", "", "Germany", "DE", "10117", "Unter den Linden 17", "+49 30 5557"),
    o("Paris", "", "France", "FR", "75002", "37 Quai du Président Roosevelt", "+33 1 5555"),
    o("Tokyo", "", "Japan", "JP", "108-0075", "2-16-3 Konan", "+81 3 5555"),
    o("São Paulo", "SP", "Brazil", "BR", "04543-907", "Av. Juscelino Kubitschek", "+55 11 5555"),
    o("Bengaluru", "KA", "India", "IN", "560071", "Embassy Golf Links", "+91 80 5555"),
];

/// Domains of people outside the tenant.
#[rustfmt::skip]
pub(super) const EXTERNAL_DOMAINS: &[&str] = &[
    "fabrikam.com", "adatum.com", "northwindtraders.com", "tailspintoys.com", "litware.com",
    "wingtiptoys.com", "proseware.com", "gmail.com", "outlook.com",
];

#[rustfmt::skip]
pub(super) const PROJECTS: &[&str] = &[
    "Mark 8", "Tailspin", "Contoso Retail", "Falcon", "Northwind Migration", "Project Nova",
    "Q3 Forecast", "Annual Review", "Vendor Onboarding", "Data Platform", "Brand Refresh",
];

#[rustfmt::skip]
pub(super) const SUBJECTS: &[&str] = &[
    "{p} status update", "Notes from today's {p} sync", "Budget question about {p}",
    "{p}: next steps", "Draft proposal for {p}", "Can we move the {p} review?",
    "Invoice for {p}", "{p} launch checklist", "Feedback on the {p} deck",
    "Travel plans for the {p} offsite", "Contract renewal: {p}", "Quick question",
    "Weekly report", "Lunch on Friday?", "Action items from the {p} meeting",
];

pub(super) const SENTENCES: &[&str] = &[
    "Thanks for sending this over so quickly.",
    "I had a look at the numbers and they mostly line up with what we expected.",
    "Could you double-check the totals in the second table before Thursday?",
    "The vendor confirmed the delivery date, so we are back on schedule.",
    "Let me know if you need anything else from my side.",
    "We still need sign-off from legal before we can share this externally.",
    "I've attached the latest version with the changes we discussed.",
    "The team agreed to push the review to next week to give everyone time to prepare.",
    "Please treat the attached figures as confidential until the announcement.",
    "Our customer asked whether the pilot can start earlier than planned.",
    "I think the main risk is the dependency on the data migration.",
    "Happy to set up a call if that is easier than going back and forth by email.",
    "The budget for the next quarter is tighter, so we should prioritise.",
    "Marketing would like a short summary they can use in the newsletter.",
    "I'm out of the office on Monday but will reply to urgent questions.",
    "The test results look good; only two minor issues remain open.",
    "Can you add the new hires to the distribution list?",
    "We should capture these decisions in the project wiki.",
    "The previous estimate did not include travel, which adds about ten percent.",
    "Great work everyone, the launch went smoothly.",
    "Here is a quick summary of where things stand.",
    "I'm not sure the current plan covers the reporting requirements.",
    "Facilities confirmed the room booking for the workshop.",
    "Let's keep the scope small for the first release and iterate.",
];

pub(super) const GREETINGS: &[&str] = &["Hi", "Hello", "Dear", "Hey", "Good morning"];

pub(super) const SIGN_OFFS: &[&str] = &["Thanks", "Best regards", "Cheers", "Kind regards"];

/// Attachment names and their MIME types.
pub(super) const ATTACHMENTS: &[(&str, &str)] = &[
    ("report.pdf", "application/pdf"),
    (
        "budget.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    (
        "proposal.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    (
        "slides.pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ("image001.png", "image/png"),
    ("photo.jpg", "image/jpeg"),
    ("notes.txt", "text/plain"),
    ("invite.ics", "text/calendar"),
];

#[rustfmt::skip]
pub(super) const MEETING_SUBJECTS: &[&str] = &[
    "{p} weekly sync", "1:1", "{p} design review", "Team stand-up", "{p} planning", "All hands",
    "Customer call: {p}", "Lunch and learn", "{p} retrospective", "Out of office",
    "Interview loop", "Quarterly business review",
];

#[rustfmt::skip]
pub(super) const ROOMS: &[&str] = &[
    "Conference Room Adams", "Conference Room Baker", "Board Room", "Cafeteria",
    "Huddle Room 3", "Training Room 1",
];

#[rustfmt::skip]
pub(super) const TIME_ZONES: &[&str] = &[
    "Pacific Standard Time", "Eastern Standard Time", "GMT Standard Time",
    "W. Europe Standard Time", "Tokyo Standard Time", "India Standard Time", "UTC",
];

#[rustfmt::skip]
pub(super) const CHAT_LINES: &[&str] = &[
    "Were you able to finalize the agenda?", "Sure, give me five minutes.",
    "Can you join the call?", "Thanks!", "I'll send the file after lunch.",
    "Did the build pass?", "Sounds good to me.", "Running a few minutes late.",
    "Who owns the follow-up?", "Let's discuss tomorrow.",
];

/// `{p}` in a template replaced by a project name.
pub(super) fn fill(template: &str, project: &str) -> String {
    template.replace("{p}", project)
}
