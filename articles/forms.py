from django import forms
from django.contrib.auth.forms import UserCreationForm

from .models import Comment

COMMENT_MAX_LENGTH = 2000


class SignupForm(UserCreationForm):
    email = forms.EmailField(required=False, help_text="Optional; needed to reset a password.")

    class Meta(UserCreationForm.Meta):
        fields = ["username", "email"]


class CommentForm(forms.ModelForm):
    # A field people never see (hidden by CSS); bots that fill every field do.
    website = forms.CharField(required=False, label="Leave this empty")

    class Meta:
        model = Comment
        fields = ["body"]
        labels = {"body": "Your comment"}
        widgets = {"body": forms.Textarea(attrs={"rows": 4, "maxlength": COMMENT_MAX_LENGTH})}

    def clean_body(self):
        body = self.cleaned_data["body"].strip()
        if len(body) > COMMENT_MAX_LENGTH:
            raise forms.ValidationError(f"Comments are limited to {COMMENT_MAX_LENGTH} characters.")
        if not body:
            raise forms.ValidationError("Write something first.")
        return body

    @property
    def is_bot(self):
        return bool(self.data.get("website"))
