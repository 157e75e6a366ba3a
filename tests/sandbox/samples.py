"""The JSON samples of the five Kore.ai documentation pages, verbatim (`xxxxx` masks and all).

Copied from `shared/kore-api-docs/` so that the contract tests run anywhere.
"""

from __future__ import annotations

from typing import Any

GET_SMS_SAMPLE: dict[str, Any] = {
    "status": "success",
    "message": "Campaign Interactive Support SMS Campaign1212 retrieved successfully",
    "data": {
        "_id": "cd-e7110489-a30a-5d1e-80ee-f246cc8xxxxx",
        "name": "Interactive Support SMS Campaign1212",
        "lname": "interactive support sms campaign1212",
        "description": "This campaign sends an SMS with a link or instructions to interact with a bot. Customers can check order status, raise tickets, or get help—all via chat-enabled SMS.",
        "status": "Ready",
        "dncLists": {"name": "testdnc"},
        "priority": "5",
        "dialingStrategy": {
            "callerId": {"phoneNumber": "+9198607xxxxx"},
            "callingHours": {
                "frequency": "WEEKLY",
                "timezone": "Asia/Kolkata",
                "days": [
                    {"day": "MO", "start": "9:00 AM", "end": "6:00 PM"},
                    {"day": "TU", "start": "9:00 AM", "end": "6:00 PM"},
                    {"day": "WE", "start": "9:00 AM", "end": "6:00 PM"},
                    {"day": "TH", "start": "9:00 AM", "end": "6:00 PM"},
                    {"day": "FR", "start": "9:00 AM", "end": "6:00 PM"},
                ],
            },
        },
        "experienceFlow": "cf-67447605-115e-5dd2-a676-e158cf3xxxxx",
        "isImported": False,
        "isFiltersEnabled": False,
        "createdAt": "2025-12-05T08:16:19.398Z",
        "updatedAt": "2025-12-05T08:16:19.177Z",
        "schedule": {"isSchedulingEnabled": False, "isRecurrenceEnabled": False},
        "contactLists": ["CL Only 2020 Dec 4"],
        "format": "advanced",
    },
}

DELETE_SMS_SAMPLE: dict[str, Any] = {
    "status": "success",
    "message": "Campaign Billing Alert Template Campaign-21212 deleted successfully",
    "data": {
        "_id": "cd-213cc43a-a340-5b89-a256-ff8da28xxxxx",
        "name": "Billing Alert Template Campaign-21212",
        "lname": "billing alert template campaign-21212",
        "description": "Uses a pre-approved message template to alert customers about pending bills. Includes dynamic fields for customer name, due date, and bill amount",
        "status": "Ready",
        "dncLists": {"name": "testdnc"},
        "priority": "5",
        "dialingStrategy": {
            "callerId": {"phoneNumber": "+9195616xxxxx"},
            "callingHours": {
                "frequency": "WEEKLY",
                "timezone": "Asia/Kolkata",
                "days": [
                    {"day": "MO", "start": "9:00 AM", "end": "6:00 PM"},
                    {"day": "TU", "start": "9:00 AM", "end": "6:00 PM"},
                    {"day": "WE", "start": "9:00 AM", "end": "6:00 PM"},
                    {"day": "TH", "start": "9:00 AM", "end": "6:00 PM"},
                    {"day": "FR", "start": "9:00 AM", "end": "6:00 PM"},
                ],
            },
        },
        "message": {
            "template_name": "Welcome",
            "message": "R3JlZXRpbmdzLCA8Rmlyc3QgTmFtZT4hIFdlJ3JlIHRocmlsbGVkIHRvIGhhdmUgeW91IGpvaW4gdXMuIEFjY2VzcyBvdXIgdG9wIHRocmVlIGJlZ2lubmVyJ3MgdGlwcyBieSBjbGlja2luZyBvbiB0aGlzIGxpbms6IGh0dHBzOi8veW91cndlYnNpdGUuY29tL3RpcHMuIElmIHlvdSBoYXZlIGFueSBpbnF1aXJpZXMsIGRvbid0IGhlc2l0YXRlIHRvIHNlbmQgdXMgYSByZXBseSByaWdodCBoZXJxxxxx",
            "templateId": "cmt-88fcd16f-bdb2-4d4d-8a2c-0324c7fxxxxx",
        },
        "isImported": False,
        "isFiltersEnabled": False,
        "createdAt": "2025-12-08T07:09:14.523Z",
        "updatedAt": "2025-12-08T07:09:31.423Z",
        "schedule": {"isSchedulingEnabled": False, "isRecurrenceEnabled": False},
        "contactLists": ["CL Only 2020 Dec 4"],
        "format": "simple",
    },
}

DELETE_VOICE_SAMPLE: dict[str, Any] = {
    "status": "success",
    "message": "Campaign Service Renewal Outreach Campaign61 deleted successfully",
    "data": {
        "_id": "cd-a1e45a7-e8ba-4e97-a339-476ebc7xxxxx",
        "name": "Service Renewal Outreach Campaign61",
        "lname": "service renewal outreach campaign61",
        "description": "Connects customers with live agents to assist with upcoming service renewals using progressive dialing. Ensures personalized support and improved engagement.",
        "dncLists": {"id": "cl-68b802a-2b99-4245-8eea-6d322a8xxxxx", "name": "DNC CL Dec 4"},
        "priority": "5",
        "dialingMode": "Progressive",
        "dialingStrategy": {
            "callerId": {"phoneNumber": "+181633xxxxx"},
            "callingHours": {
                "frequency": "WEEKLY",
                "days": [
                    {"start": "9:00 AM", "end": "6:00 PM", "day": "MO"},
                    {"start": "9:00 AM", "end": "6:00 PM", "day": "TU"},
                    {"start": "9:00 AM", "end": "6:00 PM", "day": "WE"},
                    {"start": "9:00 AM", "end": "6:00 PM", "day": "TH"},
                    {"start": "9:00 AM", "end": "6:00 PM", "day": "FR"},
                ],
                "timezone": "Asia/Kolkata",
            },
            "dialingOrder": "FIFO",
            "maxAttemptsPerRecord": 3,
            "defaultRetryPeriod": 10,
            "maxRingTime": 30,
            "useSystemMappings": False,
        },
        "status": "Ready",
        "isFiltersEnabled": False,
        "createdAt": "2025-12-04T10:50:56.762Z",
        "updatedAt": "2025-12-05T06:31:23.308Z",
        "schedule": {"isSchedulingEnabled": False, "isRecurrenceEnabled": False},
        "contactLists": ["CL Only 2020 Dec 4"],
    },
}

STOP_SMS_SAMPLE: dict[str, Any] = {
    "status": "Stopped",
    "message": "Campaign Stopped",
    "updatedAt": "2025-12-05T12:07:54.225Z",
    "campaignExecutionType": "NORMAL",
}
