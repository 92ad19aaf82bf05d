from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.validators import MaxLengthValidator

from .discovery import discover_feeds
from .fetch import FetchError
from .models import Comment, Source

COMMENT_MAX_LENGTH = 2000


class SignupForm(UserCreationForm):
    email = forms.EmailField(required=False, help_text="Optional; needed to reset a password.")

    class Meta(UserCreationForm.Meta):
        fields = ["username", "email"]


class UsernameLengthMixin:
    """A too long username is a form error at sign-in.

    AuthenticationForm sets the field's max_length after the field is built,
    so no validator checks it, and django-axes would write the failed
    attempt's username to a varchar(255): a 500.
    """

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))


class LoginForm(UsernameLengthMixin, AuthenticationForm):
    pass


class AdminLoginForm(UsernameLengthMixin, AdminAuthenticationForm):
    pass


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


class SourceForm(forms.ModelForm):
    """The admin's source form: a site's address finds its feed.

    A feed URL that turns out to be a web page is replaced by the one feed
    the page offers; when it offers several, the editor picks one. An
    address that cannot be fetched now is kept: the fetcher reports on it.
    """

    feed_choice = forms.ChoiceField(
        required=False, label="Feeds found", widget=forms.HiddenInput,
        help_text="This page offers several feeds: pick the one to follow.",
    )

    class Meta:
        model = Source
        fields = "__all__"
        help_texts = {"feed_url": "A feed's address, or a site's: its feed is found for you."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        chosen = self.data.get("feed_choice") if self.is_bound else None
        if chosen:
            self.fields["feed_choice"].choices = [(chosen, chosen)]

    def clean_feed_url(self):
        url = self.cleaned_data["feed_url"]
        chosen = self.data.get("feed_choice")
        if chosen:
            url = chosen
        elif "feed_url" not in self.changed_data:
            return url
        try:
            feeds = discover_feeds(url)
        except FetchError:
            return url
        if len(feeds) == 1:
            return feeds[0].url
        if not feeds:
            raise forms.ValidationError(
                "This address is a web page, not a feed, and no feed was found on it "
                "or at the usual paths (/feed, /rss, ...)."
            )
        field = self.fields["feed_choice"]
        field.choices = [(feed.url, f"{feed.title or 'Untitled'} — {feed.url}") for feed in feeds]
        field.widget = forms.RadioSelect(choices=field.choices)
        raise forms.ValidationError("This page offers several feeds: choose one below.")
