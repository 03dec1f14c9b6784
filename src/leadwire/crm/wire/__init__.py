"""The CRM's wire format: request DTOs (strict), response shapes, validation messages."""
