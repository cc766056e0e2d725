"""Fixed word lists for the demo data: obviously synthetic, plausible, no real people.

Person names are common given names and surnames combined at random; employer and
provider names are invented compounds ending in "(demo)" or an invented suffix so they
cannot be mistaken for a real organisation's return. Phone numbers use Ofcom's range
reserved for drama (01632 960000-960999); e-mail domains end in ``.example``.
"""

from __future__ import annotations

GIVEN_NAMES: tuple[str, ...] = (
    "Aisha",
    "Alex",
    "Amara",
    "Ben",
    "Bethan",
    "Callum",
    "Chloe",
    "Connor",
    "Daniel",
    "Deepa",
    "Eilidh",
    "Elliot",
    "Emma",
    "Erin",
    "Faisal",
    "Freya",
    "Gareth",
    "Grace",
    "Hannah",
    "Harvey",
    "Imran",
    "Isla",
    "Jack",
    "Jade",
    "Jamal",
    "Kieran",
    "Kofi",
    "Laura",
    "Leah",
    "Liam",
    "Lucy",
    "Maya",
    "Mohammed",
    "Nadia",
    "Nathan",
    "Niamh",
    "Oliver",
    "Olivia",
    "Omar",
    "Priya",
    "Rhys",
    "Rosa",
    "Ryan",
    "Sam",
    "Sana",
    "Sophie",
    "Tariq",
    "Tom",
    "Yasmin",
    "Zara",
)

FAMILY_NAMES: tuple[str, ...] = (
    "Adeyemi",
    "Ahmed",
    "Barker",
    "Bennett",
    "Brooks",
    "Campbell",
    "Chen",
    "Clarke",
    "Collins",
    "Davies",
    "Dixon",
    "Edwards",
    "Evans",
    "Fletcher",
    "Foster",
    "Graham",
    "Green",
    "Hall",
    "Hughes",
    "Hussain",
    "Jenkins",
    "Jones",
    "Kaur",
    "Khan",
    "Lewis",
    "Lloyd",
    "Marsh",
    "Mensah",
    "Mitchell",
    "Morgan",
    "Murphy",
    "Nowak",
    "Okafor",
    "Owen",
    "Patel",
    "Price",
    "Reid",
    "Roberts",
    "Shaw",
    "Singh",
    "Taylor",
    "Thomas",
    "Turner",
    "Walsh",
    "Ward",
    "Watson",
    "Webb",
    "Wilson",
    "Wright",
    "Young",
)

PROVIDER_NAMES: tuple[str, ...] = (
    "Amberfield Skills Academy (demo)",
    "Brightwater Training Partnership (demo)",
    "Copperleaf College Services (demo)",
    "Dunmore Futures Ltd (demo)",
    "Elmstead Workforce Institute (demo)",
    "Foxglove Learning Trust (demo)",
    "Greyhaven Technical Training (demo)",
    "Hollybrook Bootcamps CIC (demo)",
)

EMPLOYER_FIRST: tuple[str, ...] = (
    "Northgate",
    "Riverside",
    "Oakmoor",
    "Kestrel",
    "Bluestone",
    "Harbourline",
    "Meadowbank",
    "Ironbridge",
    "Silverdale",
    "Thornbury",
    "Westcliff",
    "Ashgrove",
    "Redfern",
    "Larchwood",
    "Pennine",
    "Quayside",
    "Fernhill",
    "Stonegate",
    "Birchley",
    "Calder",
    "Marlowe",
    "Highcroft",
    "Eastwick",
    "Sandmoor",
)
EMPLOYER_SECOND: tuple[str, ...] = (
    "Logistics",
    "Digital",
    "Construction",
    "Engineering",
    "Energy",
    "Haulage",
    "Software",
    "Homes",
    "Facilities",
    "Analytics",
    "Manufacturing",
    "Retrofit",
    "Networks",
    "Care Services",
    "Civils",
    "Transport",
)
EMPLOYER_SUFFIX: tuple[str, ...] = ("Ltd (demo)", "plc (demo)", "Group (demo)", "LLP (demo)")

# (sector, title, accelerated apprenticeship usual for this kind of bootcamp)
BOOTCAMP_KINDS: tuple[tuple[str, str, bool], ...] = (
    ("digital", "Software Development Bootcamp", False),
    ("digital", "Data Analytics Bootcamp", False),
    ("digital", "Cyber Security Foundations", False),
    ("construction", "Site Supervision and Retrofit", True),
    ("construction", "Groundworks and Civils Skills", False),
    ("green skills", "Heat Pump Installation", True),
    ("green skills", "Solar PV and Battery Storage", False),
    ("HGV driving", "HGV Category C Driver Training", False),
    ("HGV driving", "HGV Category C+E Driver Training", False),
    ("engineering", "Advanced Manufacturing Engineering", True),
    ("engineering", "Electric Vehicle Maintenance", True),
)

ROLE_TITLES: dict[str, tuple[str, ...]] = {
    "digital": ("Junior Developer", "Data Analyst", "IT Support Technician", "SOC Analyst"),
    "construction": ("Site Supervisor", "Retrofit Coordinator", "Groundworker"),
    "green skills": ("Heat Pump Engineer", "Solar Installer", "Energy Assessor"),
    "HGV driving": ("HGV Class 2 Driver", "HGV Class 1 Driver", "Transport Planner"),
    "engineering": ("Maintenance Technician", "CNC Operator", "EV Technician"),
}

REFERRAL_DESTINATIONS: tuple[str, ...] = (
    "National Careers Service",
    "Jobcentre Plus work coach",
    "Local college Level 3 course",
    "Apprenticeship vacancy service",
    "Another Skills Bootcamp",
)

CONTACT_NOTES_REACHED: tuple[str, ...] = (
    "Call with HR lead",
    "Spoke to line manager",
    "Video call with site manager",
    "Confirmed by e-mail",
    "Met at employer board",
)
CONTACT_NOTES_UNREACHED: tuple[str, ...] = (
    "Left voicemail",
    "No answer",
    "E-mail bounced, trying phone",
    "Out of office",
)


_PROVIDER_WORDS: tuple[str, ...] = ("Skills", "Training", "Academy", "Learning", "Futures", "Works")


def provider_name(index: int) -> str:
    """The demo name of provider ``index`` (0-based): the fixed list first, then invented
    compounds numbered so that a national-size run has a distinct name for each."""
    if index < len(PROVIDER_NAMES):
        return PROVIDER_NAMES[index]
    first = EMPLOYER_FIRST[index % len(EMPLOYER_FIRST)]
    word = _PROVIDER_WORDS[(index // len(EMPLOYER_FIRST)) % len(_PROVIDER_WORDS)]
    return f"{first} {word} {index + 1} (demo)"
